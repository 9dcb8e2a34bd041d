// Reads what the emulator needs from a PTX module: each .entry's name, the byte size of each
// .param, .maxntid, and the bytes of the .shared variables declared inside it. The instructions
// are not read: the emulator runs the host-compiled kernel of the same name instead.
//
// Permissive: module-scope .shared variables (file-scope __shared__ in CUDA C++, which rnnrt's
// kernels do not have) are not counted against any entry.
#include <cctype>
#include <cstdlib>

#include "emu.h"

namespace emu {
namespace {

// The text without // and /* */ comments.
std::string stripComments(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '/') {
            while (i < s.size() && s[i] != '\n') i++;
            out += '\n';
        } else if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < s.size() && !(s[i] == '*' && s[i + 1] == '/')) i++;
            i++;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Bytes of a PTX scalar type (.u32, .f64, .b8, ...); 0 if unknown.
size_t typeBytes(const std::string& type) {
    if (type.size() < 3 || type[0] != '.') return 0;
    char c = type[1];
    if (c != 'u' && c != 's' && c != 'b' && c != 'f') return 0;
    int bits = std::atoi(type.c_str() + 2);
    return bits == 8 || bits == 16 || bits == 32 || bits == 64 ? static_cast<size_t>(bits / 8) : 0;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> w;
    std::string cur;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == ';') {
            if (!cur.empty()) w.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) w.push_back(cur);
    return w;
}

// Bytes of a declaration such as ".param .align 8 .b8 name[16]" or ".shared .align 4 .f32 a[64]";
// *align receives its alignment. 0 when not understood.
size_t declarationBytes(const std::string& decl, size_t* align) {
    std::vector<std::string> w = words(decl);
    size_t elem = 0;
    *align = 1;
    std::string name;
    for (size_t k = 0; k < w.size(); k++) {
        if (w[k] == ".align" && k + 1 < w.size()) {
            *align = static_cast<size_t>(std::atol(w[k + 1].c_str()));
            k++;
        } else if (typeBytes(w[k]) > 0) {
            elem = typeBytes(w[k]);
        } else if (w[k][0] != '.') {
            name = w[k];
        }
    }
    if (elem == 0 || name.empty()) return 0;
    if (*align < elem) *align = elem;
    size_t count = 1;
    for (size_t p = name.find('['); p != std::string::npos; p = name.find('[', p + 1)) {
        count *= static_cast<size_t>(std::atol(name.c_str() + p + 1));
    }
    return elem * count;
}

}  // namespace

bool parse_ptx(const std::string& raw, std::vector<PtxEntry>* entries, std::string* error) {
    std::string s = stripComments(raw);
    if (s.find(".version") == std::string::npos || s.find(".target") == std::string::npos) {
        *error = "not PTX text (no .version and .target): the emulator reads PTX only, not cubin or fatbin";
        return false;
    }
    size_t pos = 0;
    while ((pos = s.find(".entry", pos)) != std::string::npos) {
        pos += 6;
        if (!std::isspace(static_cast<unsigned char>(s[pos]))) continue;
        PtxEntry e;
        size_t open = s.find('(', pos);
        size_t brace = s.find('{', pos);
        if (open == std::string::npos || brace == std::string::npos) {
            *error = "an .entry without its parameter list or body";
            return false;
        }
        std::vector<std::string> head = words(s.substr(pos, (open < brace ? open : brace) - pos));
        if (head.empty()) {
            *error = "an .entry without a name";
            return false;
        }
        e.name = head[0];
        size_t bodyStart = brace;
        if (open < brace) {
            size_t close = s.find(')', open);
            if (close == std::string::npos || close > brace) {
                *error = "the parameter list of .entry " + e.name + " does not end";
                return false;
            }
            std::string params = s.substr(open + 1, close - open - 1);
            size_t from = 0;
            while (from < params.size()) {
                size_t comma = params.find(".param", from + 1);
                std::string one = params.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
                if (one.find(".param") != std::string::npos) {
                    size_t align;
                    size_t bytes = declarationBytes(one, &align);
                    if (bytes == 0) {
                        *error = "cannot read a parameter of .entry " + e.name + ": " + one;
                        return false;
                    }
                    e.paramSizes.push_back(bytes);
                }
                if (comma == std::string::npos) break;
                from = comma;
            }
            std::vector<std::string> tail = words(s.substr(close + 1, brace - close - 1));
            for (size_t k = 0; k < tail.size(); k++) {
                if (tail[k] == ".maxntid" || tail[k] == ".reqntid") {
                    unsigned product = 1;
                    for (size_t d = k + 1; d < tail.size() && std::isdigit(static_cast<unsigned char>(tail[d][0])); d++) {
                        product *= static_cast<unsigned>(std::atol(tail[d].c_str()));
                    }
                    e.maxThreads = product;
                }
            }
        }
        // the body, to its matching brace: the .shared variables declared in it
        int depth = 0;
        size_t end = bodyStart;
        for (; end < s.size(); end++) {
            if (s[end] == '{') depth++;
            if (s[end] == '}' && --depth == 0) break;
        }
        std::string body = s.substr(bodyStart, end - bodyStart);
        size_t line = 0;
        while (line < body.size()) {
            size_t nl = body.find('\n', line);
            std::string l = body.substr(line, nl == std::string::npos ? std::string::npos : nl - line);
            std::vector<std::string> w = words(l);
            if (!w.empty() && w[0] == ".shared") {
                size_t align;
                size_t bytes = declarationBytes(l, &align);
                e.staticShared = (e.staticShared + align - 1) / align * align + bytes;
            }
            if (nl == std::string::npos) break;
            line = nl + 1;
        }
        entries->push_back(e);
        pos = end;
    }
    return true;
}

}  // namespace emu
