#!/usr/bin/env node
// Expected outputs of recurrent models computed by TensorFlow.js (tfjs-layers), an implementation of
// Keras' layers written independently of rnnrt, for KerasOracleTest.
//
// Writes src/test/resources/fixtures/tfjs/tfjs_cases.json. Run it once with Node.js (the project
// itself never needs Node.js; node_modules stays here, out of the test resources):
//
//     cd src/test/tfjs && npm install && node make_tfjs_fixtures.js
//
// Each case is a model built with tf.layers, its weights set to seeded random values, run by
// model.predict on inputs with padded (masked) steps. Saved per case: the model's config as
// model.toJSON() writes it (Keras' JSON format; the one tfjs-specific form, an RNN's "cells" list,
// is rewritten as the "cell": StackedRNNCells entry Keras writes), each layer's weights in order
// with their names, the inputs, and the outputs. tfjs-layers follows Keras 2.1: hard_sigmoid is
// clip(0.2x + 0.5, 0, 1), merges AND their inputs' masks, StackedRNNCells lists its cells' states
// last cell first. The cases say keras_version 2.1.6 accordingly.
//
// Everything runs on tfjs' CPU backend in float32. Where tfjs departs from Keras the cases avoid it
// (named where it matters): its element-wise merges fail on masked inputs, GlobalAveragePooling1D
// ignores masks, and a recurrent layer returning only its last step passes its input's mask on.

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

tf.setBackend('cpu');

// mulberry32: a small seeded generator, so that the fixtures are reproducible
let seed = 20261201;
function random() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function uniform(shape, lo, hi) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let k = 0; k < n; k++) v[k] = lo + (hi - lo) * random();
  return tf.tensor(v, shape);
}

function tensorJson(t) {
  return {shape: t.shape, data: Array.from(t.dataSync())};
}

/** x [B, T, F] with some steps all zeros (Masking(0) masks them): a trailing pad, a leading pad, a gap. */
function paddedFeatures(B, T, F) {
  const x = uniform([B, T, F], -1, 1).arraySync();
  for (let t = T - 2; t < T; t++) x[0][t].fill(0);
  x[1][0].fill(0);
  x[1][3].fill(0);
  return tf.tensor(x);
}

/** ids [B, T] in 1..vocab-1, zeros (Embedding(mask_zero) masks them) at the end of row 0 and start of row 1. */
function paddedIds(B, T, vocab) {
  const ids = [];
  for (let b = 0; b < B; b++) {
    const row = [];
    for (let t = 0; t < T; t++) row.push(1 + Math.floor(random() * (vocab - 1)));
    ids.push(row);
  }
  ids[0][T - 1] = 0;
  ids[0][T - 2] = 0;
  ids[1][0] = 0;
  return tf.tensor2d(ids);
}

function randomWeights(model) {
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (ws.length === 0) continue;
    layer.setWeights(ws.map(w => w.name.includes('moving_variance') ? uniform(w.shape, 0.5, 1.5)
        : uniform(w.shape, -0.6, 0.6)));
  }
}

/** The RNN "cells" list tfjs writes, as the "cell": StackedRNNCells entry Keras writes. */
function kerasConfig(node) {
  if (Array.isArray(node)) return node.map(kerasConfig);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = kerasConfig(v);
  if (out.class_name === 'RNN' && out.config && Array.isArray(out.config.cells)) {
    out.config.cell = {class_name: 'StackedRNNCells', config: {name: 'stacked_rnn_cells', cells: out.config.cells}};
    delete out.config.cells;
  }
  return out;
}

function run(model, inputs) {
  const outputs = model.predict(inputs);
  return (Array.isArray(outputs) ? outputs : [outputs]).map(tensorJson);
}

/** The case; {@code later}: inputs of further calls of the same model (a stateful one carries its states). */
function makeCase(name, model, inputs, later = []) {
  randomWeights(model);
  const outputs = run(model, inputs);
  const then = later.map(next => ({inputs: next.map(tensorJson), expected: run(model, next)}));
  const weights = {};
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.getWeights();
    weights[layer.name] = layer.weights.map((w, k) => ({name: w.name, value: tensorJson(values[k])}));
  }
  return {
    name,
    keras_version: '2.1.6',
    model_config: kerasConfig(model.toJSON(null, false)),
    weights,
    inputs: inputs.map(tensorJson),
    expected: outputs,
    then,
  };
}

const B = 3;
const T = 7;
const cases = [];

// stacked cells with a mask and go_backwards, returning every cell's states (last cell first)
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  const m = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  const outs = tf.layers.rnn({
    cell: [tf.layers.lstmCell({units: 4, recurrentActivation: 'sigmoid'}), tf.layers.gruCell({units: 3}),
      tf.layers.simpleRNNCell({units: 2})],
    returnSequences: true, returnState: true, goBackwards: true, name: 'rnn'}).apply(m);
  cases.push(makeCase('stacked_cells_masked_go_backwards', tf.model({inputs: x, outputs: outs}),
      [paddedFeatures(B, T, 3)]));
}

// stacked cells given initial states (last cell's first), returning the last step and the states
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  const h2 = tf.input({shape: [2], name: 'h2'});
  const h1 = tf.input({shape: [3], name: 'h1'});
  const c1 = tf.input({shape: [3], name: 'c1'});
  const outs = tf.layers.rnn({cell: [tf.layers.lstmCell({units: 3}), tf.layers.gruCell({units: 2})],
    returnState: true, name: 'rnn'}).apply(x, {initialState: [h2, h1, c1]});
  cases.push(makeCase('stacked_cells_initial_state', tf.model({inputs: [x, h2, h1, c1], outputs: outs}),
      [uniform([B, T, 3], -1, 1), uniform([B, 2], -0.5, 0.5), uniform([B, 3], -0.5, 0.5), uniform([B, 3], -0.5, 0.5)]));
}

// Embedding(mask_zero) into two Bidirectional layers (concat, ave) and a TimeDistributed softmax head
{
  const ids = tf.input({shape: [T], name: 'ids'});
  let h = tf.layers.embedding({inputDim: 12, outputDim: 4, maskZero: true, name: 'embedding'}).apply(ids);
  h = tf.layers.bidirectional({layer: tf.layers.lstm({units: 5, returnSequences: true}), mergeMode: 'concat',
    name: 'bi_lstm'}).apply(h);
  h = tf.layers.bidirectional({layer: tf.layers.gru({units: 3, returnSequences: true}), mergeMode: 'ave',
    name: 'bi_gru'}).apply(h);
  h = tf.layers.timeDistributed({layer: tf.layers.dense({units: 2, activation: 'softmax'}), name: 'head'}).apply(h);
  cases.push(makeCase('embedding_bidirectional_time_distributed', tf.model({inputs: ids, outputs: h}),
      [paddedIds(B, T, 12)]));
}

// Bidirectional returning states, merge mode sum, go_backwards underneath
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  const m = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  const outs = tf.layers.bidirectional({layer: tf.layers.lstm({units: 4, returnState: true}), mergeMode: 'sum',
    name: 'bi'}).apply(m);
  cases.push(makeCase('bidirectional_states_masked', tf.model({inputs: x, outputs: outs}), [paddedFeatures(B, T, 3)]));
}

// two branches with different padding, concatenated (Keras 2 ANDs the masks) and read by an LSTM; the
// branches' last states merged every other way (tfjs' element-wise merges cannot take masks, so these
// merge unmasked vectors)
{
  const a = tf.input({shape: [T], name: 'ids_a'});
  const b = tf.input({shape: [T], name: 'ids_b'});
  const ea = tf.layers.embedding({inputDim: 9, outputDim: 3, maskZero: true, name: 'emb_a'}).apply(a);
  const eb = tf.layers.embedding({inputDim: 9, outputDim: 3, maskZero: true, name: 'emb_b'}).apply(b);
  const la = tf.layers.lstm({units: 4, returnSequences: true, name: 'lstm_a'}).apply(ea);
  const lb = tf.layers.gru({units: 4, returnSequences: true, name: 'gru_b'}).apply(eb);
  const joined = tf.layers.concatenate({name: 'concatenate'}).apply([la, lb]);
  const read = tf.layers.lstm({units: 3, name: 'read'}).apply(joined);
  const va = tf.layers.lstm({units: 3, name: 'last_a'}).apply(la);
  const vb = tf.layers.simpleRNN({units: 3, name: 'last_b'}).apply(lb);
  const merged = [read,
    tf.layers.add({name: 'add'}).apply([va, vb, read]),
    tf.layers.multiply({name: 'multiply'}).apply([va, vb]),
    tf.layers.average({name: 'average'}).apply([va, vb]),
    tf.layers.maximum({name: 'maximum'}).apply([va, vb]),
    tf.layers.minimum({name: 'minimum'}).apply([va, vb])];
  const out = tf.layers.dense({units: 2, name: 'dense'}).apply(tf.layers.concatenate({name: 'all'}).apply(merged));
  const ia = paddedIds(B, T, 9);
  // b's padding differs from a's: row 0 padded earlier, row 2 at the start
  const ib = paddedIds(B, T, 9).arraySync();
  ib[0][T - 3] = 0;
  ib[0][T - 2] = 0;
  ib[0][T - 1] = 0;
  ib[2][0] = 0;
  cases.push(makeCase('concatenated_masks_and_merges', tf.model({inputs: [a, b], outputs: out}), [ia, tf.tensor2d(ib)]));
}

// encoder-decoder through RepeatVector, tfjs' default recurrent activation (hard_sigmoid, Keras 2's).
// Unmasked: tfjs passes the encoder's input mask on to the decoder although the encoder returns only
// its last step (Keras passes none on there), so a masked input would give tfjs' numbers, not Keras'.
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  let h = tf.layers.lstm({units: 4, name: 'encoder'}).apply(x);
  h = tf.layers.repeatVector({n: 3, name: 'repeat'}).apply(h);
  h = tf.layers.gru({units: 5, returnSequences: true, goBackwards: true, name: 'decoder'}).apply(h);
  h = tf.layers.timeDistributed({layer: tf.layers.dense({units: 2, activation: 'tanh'}), name: 'head'}).apply(h);
  cases.push(makeCase('repeat_vector_hard_sigmoid', tf.model({inputs: x, outputs: h}), [uniform([B, T, 3], -1, 1)]));
}

// SimpleRNN (relu) and a GRU returning its state, from a Conv1D, pooling and normalizations
{
  const x = tf.input({shape: [T + 1, 3], name: 'x'});
  let h = tf.layers.conv1d({filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv'}).apply(x);
  h = tf.layers.maxPooling1d({poolSize: 2, name: 'pool'}).apply(h);
  h = tf.layers.batchNormalization({name: 'bn'}).apply(h);
  h = tf.layers.simpleRNN({units: 5, activation: 'relu', returnSequences: true, name: 'simple'}).apply(h);
  h = tf.layers.layerNormalization({name: 'ln'}).apply(h);
  const outs = tf.layers.gru({units: 3, returnState: true, recurrentActivation: 'sigmoid', name: 'gru'}).apply(h);
  cases.push(makeCase('conv_pool_norm_recurrent', tf.model({inputs: x, outputs: outs}), [uniform([B, T + 1, 3], -1, 1)]));
}

// a stateful LSTM over a sequence given in three calls, states carried from call to call
{
  const x = tf.input({batchShape: [B, 4, 3], name: 'x'});
  let h = tf.layers.lstm({units: 4, stateful: true, returnSequences: true, recurrentActivation: 'sigmoid',
    name: 'stateful_lstm'}).apply(x);
  h = tf.layers.simpleRNN({units: 3, stateful: true, name: 'stateful_simple'}).apply(h);
  cases.push(makeCase('stateful_three_calls', tf.model({inputs: x, outputs: h}), [uniform([B, 4, 3], -1, 1)],
      [[uniform([B, 4, 3], -1, 1)], [uniform([B, 4, 3], -1, 1)]]));
}

// a masked stateful GRU: a later call's leading masked steps output the carried state (Keras 2.1)
{
  const x = tf.input({batchShape: [B, 5, 3], name: 'x'});
  let h = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  h = tf.layers.gru({units: 4, stateful: true, returnSequences: true, name: 'stateful_gru'}).apply(h);
  const second = uniform([B, 5, 3], -1, 1).arraySync();
  second[0][0].fill(0);
  second[0][1].fill(0);
  second[2][0].fill(0);
  second[1][4].fill(0);
  cases.push(makeCase('stateful_masked_leading_steps', tf.model({inputs: x, outputs: h}), [uniform([B, 5, 3], -1, 1)],
      [[tf.tensor(second)]]));
}

// encoder-decoder: the decoder (masked ids) starts from the encoder's returned h and c
{
  const enc = tf.input({shape: [null, 3], name: 'enc_in'});
  const dec = tf.input({shape: [T], name: 'dec_in'});
  const [, h, c] = tf.layers.lstm({units: 5, returnState: true, recurrentActivation: 'sigmoid', name: 'encoder'})
      .apply(tf.layers.masking({maskValue: 0, name: 'masking'}).apply(enc));
  const e = tf.layers.embedding({inputDim: 8, outputDim: 3, maskZero: true, name: 'dec_emb'}).apply(dec);
  const d = tf.layers.lstm({units: 5, returnSequences: true, recurrentActivation: 'sigmoid', name: 'decoder'})
      .apply(e, {initialState: [h, c]});
  const out = tf.layers.timeDistributed({layer: tf.layers.dense({units: 4, activation: 'softmax'}), name: 'head'})
      .apply(d);
  cases.push(makeCase('encoder_decoder_initial_state', tf.model({inputs: [enc, dec], outputs: out}),
      [paddedFeatures(B, T, 3), paddedIds(B, T, 8)]));
}

// go_backwards in the middle of a masked stack: Keras passes the next layer the mask unreversed,
// while that layer reads the sequence in the first one's (reversed) order
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  let h = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  h = tf.layers.dense({units: 4, activation: 'tanh', name: 'dense_in'}).apply(h);
  h = tf.layers.lstm({units: 4, returnSequences: true, goBackwards: true, recurrentActivation: 'sigmoid',
    name: 'backwards'}).apply(h);
  h = tf.layers.gru({units: 3, returnSequences: true, name: 'forwards'}).apply(h);
  h = tf.layers.timeDistributed({layer: tf.layers.dense({units: 2}), name: 'head'}).apply(h);
  cases.push(makeCase('go_backwards_then_forwards_masked', tf.model({inputs: x, outputs: h}),
      [paddedFeatures(B, T, 3)]));
}

// activations of recurrent layers, side by side on one input
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  const branches = [];
  for (const a of ['elu', 'selu', 'softsign', 'softplus', 'relu6', 'linear', 'sigmoid', 'swish', 'mish']) {
    branches.push(tf.layers.simpleRNN({units: 2, activation: a, name: 'simple_' + a}).apply(x));
  }
  branches.push(tf.layers.lstm({units: 3, activation: 'softsign', recurrentActivation: 'sigmoid',
    name: 'lstm_softsign'}).apply(x));
  branches.push(tf.layers.gru({units: 3, activation: 'relu', name: 'gru_relu_hard_sigmoid'}).apply(x));
  branches.push(tf.layers.lstm({units: 2, useBias: false, name: 'lstm_no_bias'}).apply(x));
  const out = tf.layers.concatenate({name: 'all'}).apply(branches);
  cases.push(makeCase('recurrent_activations', tf.model({inputs: x, outputs: out}), [uniform([B, T, 3], -1, 1)]));
}

// Bidirectional merge modes mul and none (both sequences out), a go_backwards layer wrapped, masked
{
  const x = tf.input({shape: [null, 3], name: 'x'});
  const m = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  const mul = tf.layers.bidirectional({layer: tf.layers.gru({units: 3, returnSequences: true}), mergeMode: 'mul',
    name: 'bi_mul'}).apply(m);
  const none = tf.layers.bidirectional({layer: tf.layers.simpleRNN({units: 2, returnSequences: true,
    goBackwards: true}), mergeMode: null, name: 'bi_none'}).apply(mul);
  cases.push(makeCase('bidirectional_mul_and_none', tf.model({inputs: x, outputs: none}), [paddedFeatures(B, T, 3)]));
}

// a mask through TimeDistributed(Dense), Dropout and BatchNormalization into an LSTM, and Masking(-1)
{
  const ids = tf.input({shape: [T], name: 'ids'});
  let h = tf.layers.embedding({inputDim: 10, outputDim: 4, maskZero: true, name: 'embedding'}).apply(ids);
  h = tf.layers.timeDistributed({layer: tf.layers.dense({units: 5, activation: 'relu'}), name: 'td'}).apply(h);
  h = tf.layers.dropout({rate: 0.3, name: 'dropout'}).apply(h);
  h = tf.layers.batchNormalization({name: 'bn'}).apply(h);
  h = tf.layers.lstm({units: 4, returnSequences: true, recurrentActivation: 'sigmoid', name: 'lstm'}).apply(h);
  const out1 = tf.layers.gru({units: 3, name: 'gru'}).apply(h);
  const x = tf.input({shape: [null, 2], name: 'x'});
  const m = tf.layers.masking({maskValue: -1, name: 'masking'}).apply(x);
  const out2 = tf.layers.simpleRNN({units: 3, name: 'simple'}).apply(m);
  const xs = uniform([B, T, 2], 0, 1).arraySync();
  xs[0][2].fill(-1);
  xs[2][T - 1].fill(-1);
  xs[2][T - 2].fill(-1);
  cases.push(makeCase('mask_through_layers_and_masking_value', tf.model({inputs: [ids, x], outputs: [out1, out2]}),
      [paddedIds(B, T, 10), tf.tensor(xs)]));
}

// Bidirectional given initial states (forward's, then backward's), and masks joined along time
{
  const x = tf.input({shape: [T, 3], name: 'x'});
  const y = tf.input({shape: [4, 3], name: 'y'});
  const hf = tf.input({shape: [4], name: 'hf'});
  const cf = tf.input({shape: [4], name: 'cf'});
  const hb = tf.input({shape: [4], name: 'hb'});
  const cb = tf.input({shape: [4], name: 'cb'});
  const mx = tf.layers.masking({maskValue: 0, name: 'mask_x'}).apply(x);
  const my = tf.layers.masking({maskValue: 0, name: 'mask_y'}).apply(y);
  const joined = tf.layers.concatenate({axis: 1, name: 'along_time'}).apply([mx, my]);
  const bi = tf.layers.bidirectional({layer: tf.layers.lstm({units: 4, returnSequences: true,
    recurrentActivation: 'sigmoid'}), name: 'bi'}).apply(joined, {initialState: [hf, cf, hb, cb]});
  const ys = uniform([B, 4, 3], -1, 1).arraySync();
  ys[0][0].fill(0);
  ys[1][3].fill(0);
  cases.push(makeCase('bidirectional_initial_state_time_concat', tf.model({inputs: [x, y, hf, cf, hb, cb], outputs: bi}),
      [paddedFeatures(B, T, 3), tf.tensor(ys), uniform([B, 4], -0.5, 0.5), uniform([B, 4], -0.5, 0.5),
        uniform([B, 4], -0.5, 0.5), uniform([B, 4], -0.5, 0.5)]));
}

// attention written with Dot layers over two LSTMs, normalized and not, then reshaping layers
{
  const q = tf.input({shape: [5, 3], name: 'q'});
  const v = tf.input({shape: [T, 3], name: 'v'});
  const lq = tf.layers.lstm({units: 4, returnSequences: true, name: 'lq'}).apply(q);
  const lv = tf.layers.gru({units: 4, returnSequences: true, name: 'lv'}).apply(v);
  const scores = tf.layers.dot({axes: [2, 2], name: 'scores'}).apply([lq, lv]);
  const weights = tf.layers.activation({activation: 'softmax', name: 'weights'}).apply(scores);
  const context = tf.layers.dot({axes: [2, 1], name: 'context'}).apply([weights, lv]);
  const cosine = tf.layers.dot({axes: [2, 2], normalize: true, name: 'cosine'}).apply([lq, lv]);
  let h = tf.layers.concatenate({name: 'concat'}).apply([context, lq, cosine]);
  h = tf.layers.permute({dims: [2, 1], name: 'permute'}).apply(h);
  h = tf.layers.reshape({targetShape: [5, 15], name: 'reshape'}).apply(h);
  h = tf.layers.flatten({name: 'flatten'}).apply(h);
  h = tf.layers.dense({units: 3, name: 'dense'}).apply(h);
  cases.push(makeCase('dot_attention_and_reshaping', tf.model({inputs: [q, v], outputs: h}),
      [uniform([B, 5, 3], -1, 1), uniform([B, T, 3], -1, 1)]));
}

// activation layers with parameters after a recurrent layer
{
  const x = tf.input({shape: [T, 3], name: 'x'});
  const l = tf.layers.simpleRNN({units: 6, returnSequences: true, activation: 'linear', name: 'rnn'}).apply(x);
  const outs = [
    tf.layers.leakyReLU({alpha: 0.2, name: 'leaky'}).apply(l),
    tf.layers.elu({name: 'elu'}).apply(l),
    tf.layers.thresholdedReLU({theta: 0.3, name: 'thresholded'}).apply(l),
    tf.layers.reLU({maxValue: 0.5, name: 'relu_max'}).apply(l),
    tf.layers.prelu({name: 'prelu'}).apply(l),
    tf.layers.softmax({axis: -1, name: 'softmax'}).apply(l),
    tf.layers.activation({activation: 'softplus', name: 'softplus'}).apply(l),
  ];
  cases.push(makeCase('activation_layers', tf.model({inputs: x, outputs: outs}), [uniform([B, T, 3], -1, 1)]));
}

// a masked branch concatenated with an unmasked one (the unmasked counts as all steps kept), the
// mask carried through the training-only layers and LayerNormalization
{
  const ids = tf.input({shape: [T], name: 'ids'});
  const x = tf.input({shape: [T, 2], name: 'x'});
  let e = tf.layers.embedding({inputDim: 10, outputDim: 3, maskZero: true, name: 'embedding'}).apply(ids);
  e = tf.layers.spatialDropout1d({rate: 0.2, name: 'spatial'}).apply(e);
  e = tf.layers.gaussianNoise({stddev: 0.5, name: 'noise'}).apply(e);
  const d = tf.layers.dense({units: 2, name: 'dense_x'}).apply(x);
  let h = tf.layers.concatenate({name: 'concat'}).apply([e, d]);
  h = tf.layers.layerNormalization({name: 'ln'}).apply(h);
  h = tf.layers.alphaDropout({rate: 0.1, name: 'alpha'}).apply(h);
  h = tf.layers.gru({units: 4, returnSequences: true, name: 'gru'}).apply(h);
  h = tf.layers.simpleRNN({units: 3, goBackwards: true, name: 'simple'}).apply(h);
  cases.push(makeCase('masked_and_unmasked_concatenated', tf.model({inputs: [ids, x], outputs: h}),
      [paddedIds(B, T, 10), uniform([B, T, 2], -1, 1)]));
}

// Conv1D (dilated, same; strided, valid; tfjs has no causal padding) and pooling (same, valid, global) around recurrent layers
{
  const x = tf.input({shape: [12, 3], name: 'x'});
  let h = tf.layers.conv1d({filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh',
    name: 'dilated'}).apply(x);
  h = tf.layers.averagePooling1d({poolSize: 3, strides: 2, padding: 'same', name: 'avg_same'}).apply(h);
  h = tf.layers.lstm({units: 5, returnSequences: true, name: 'lstm'}).apply(h);
  h = tf.layers.conv1d({filters: 3, kernelSize: 2, strides: 2, name: 'strided'}).apply(h);
  const a = tf.layers.maxPooling1d({poolSize: 2, strides: 1, padding: 'same', name: 'max_same'}).apply(h);
  const g = tf.layers.globalMaxPooling1d({name: 'gmax'}).apply(a);
  const v = tf.layers.globalAveragePooling1d({name: 'gavg'}).apply(h);
  cases.push(makeCase('convolution_and_pooling', tf.model({inputs: x, outputs: [g, v]}), [uniform([B, 12, 3], -1, 1)]));
}

// RNN around one cell (loaded as that cell's layer), and a stateful stack of cells, masked, over two calls
{
  const x = tf.input({batchShape: [B, 5, 3], name: 'x'});
  const m = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  const one = tf.layers.rnn({cell: tf.layers.lstmCell({units: 3}), returnSequences: true, goBackwards: true,
    name: 'one_cell'}).apply(m);
  const stack = tf.layers.rnn({cell: [tf.layers.gruCell({units: 4}), tf.layers.simpleRNNCell({units: 4})],
    stateful: true, returnSequences: true, name: 'stateful_stack'}).apply(m);
  const out = tf.layers.concatenate({name: 'both'}).apply([one, stack]);
  const first = uniform([B, 5, 3], -1, 1).arraySync();
  first[0][4].fill(0);
  const second = uniform([B, 5, 3], -1, 1).arraySync();
  second[0][0].fill(0);
  second[2][0].fill(0);
  second[2][1].fill(0);
  cases.push(makeCase('one_cell_and_stateful_stack', tf.model({inputs: x, outputs: out}), [tf.tensor(first)],
      [[tf.tensor(second)]]));
}

// a hierarchical model: a sentence encoder (a model: Embedding(mask_zero) into a Bidirectional GRU)
// over every sentence of a document through TimeDistributed, then an LSTM over the sentences; and a
// Sequential model in TimeDistributed over feature steps
{
  const sentence = tf.input({shape: [5], name: 'sentence'});
  let s = tf.layers.embedding({inputDim: 12, outputDim: 4, maskZero: true, name: 'words'}).apply(sentence);
  s = tf.layers.bidirectional({layer: tf.layers.gru({units: 3}), name: 'sentence_gru'}).apply(s);
  const encoder = tf.model({inputs: sentence, outputs: s, name: 'sentence_encoder'});
  const doc = tf.input({shape: [4, 5], name: 'doc'});
  let d = tf.layers.timeDistributed({layer: encoder, name: 'sentences'}).apply(doc);
  d = tf.layers.lstm({units: 4, recurrentActivation: 'sigmoid', name: 'document'}).apply(d);
  const frames = tf.input({shape: [4, 6, 2], name: 'frames'});
  const per = tf.sequential({name: 'frame_encoder', layers: [
    tf.layers.simpleRNN({units: 3, inputShape: [6, 2], name: 'frame_rnn'}),
    tf.layers.dense({units: 2, activation: 'tanh', name: 'frame_dense'})]});
  let f = tf.layers.timeDistributed({layer: per, name: 'per_frame'}).apply(frames);
  f = tf.layers.gru({units: 3, name: 'over_frames'}).apply(f);
  const out = tf.layers.concatenate({name: 'both'}).apply([d, f]);
  const ids = [];
  for (let b = 0; b < B; b++) {
    const docIds = [];
    for (let k = 0; k < 4; k++) {
      const row = [];
      for (let t = 0; t < 5; t++) row.push(1 + Math.floor(random() * 11));
      docIds.push(row);
    }
    ids.push(docIds);
  }
  ids[0][1][3] = 0;
  ids[0][1][4] = 0;       // a sentence padded at its end
  ids[1][2][0] = 0;       // one padded at its start
  ids[2][3] = [0, 0, 0, 0, 0];   // a sentence of padding only
  cases.push(makeCase('time_distributed_models', tf.model({inputs: [doc, frames], outputs: out}),
      [tf.tensor3d(ids), uniform([B, 4, 6, 2], -1, 1)]));
}

// TimeDistributed around models holding BatchNormalization, frozen layers, nested models; shared; inside
// a nested model; an inner model with free time steps
{
  const x = tf.input({shape: [4, 5], name: 'x'});
  const seq = tf.sequential({name: 'inner_seq', layers: [tf.layers.dense({units: 3, inputShape: [5], name: 'd1'}),
    tf.layers.batchNormalization({name: 'bn'}), tf.layers.dense({units: 2, activation: 'tanh', name: 'd2'})]});
  let h = tf.layers.timeDistributed({layer: seq, name: 'td'}).apply(x);
  h = tf.layers.gru({units: 3, name: 'gru'}).apply(h);
  cases.push(makeCase('td_batch_normalization', tf.model({inputs: x, outputs: h}), [uniform([B, 4, 5], -1, 1)]));
}
{
  const s = tf.input({shape: [6, 3], name: 's'});
  let a = tf.layers.dense({units: 4, name: 'proj', trainable: false}).apply(s);
  a = tf.layers.lstm({units: 3, name: 'enc', recurrentActivation: 'sigmoid'}).apply(a);
  a = tf.layers.dense({units: 2, name: 'out'}).apply(a);
  const enc = tf.model({inputs: s, outputs: a, name: 'enc_model'});
  const x = tf.input({shape: [4, 6, 3], name: 'x'});
  let h = tf.layers.timeDistributed({layer: enc, name: 'td'}).apply(x);
  h = tf.layers.simpleRNN({units: 2, name: 'top'}).apply(h);
  cases.push(makeCase('td_frozen_layer', tf.model({inputs: x, outputs: h}), [uniform([B, 4, 6, 3], -1, 1)]));
}
{
  const sub = tf.sequential({name: 'sub', layers: [tf.layers.dense({units: 4, inputShape: [5], name: 'sd'}),
    tf.layers.batchNormalization({name: 'sbn'})]});
  const s = tf.input({shape: [5], name: 's'});
  let a = tf.layers.batchNormalization({name: 'bn2'}).apply(sub.apply(s));
  a = tf.layers.dense({units: 3, name: 'dd'}).apply(a);
  const enc = tf.model({inputs: s, outputs: a, name: 'enc2'});
  const x = tf.input({shape: [4, 5], name: 'x'});
  let h = tf.layers.timeDistributed({layer: enc, name: 'td'}).apply(x);
  h = tf.layers.lstm({units: 2, name: 'top', recurrentActivation: 'sigmoid'}).apply(h);
  cases.push(makeCase('td_model_with_nested_model', tf.model({inputs: x, outputs: h}), [uniform([B, 4, 5], -1, 1)]));
}
{
  const s = tf.input({shape: [5], name: 's'});
  const a = tf.layers.batchNormalization({name: 'bn'}).apply(tf.layers.dense({units: 3, name: 'dd'}).apply(s));
  const td = tf.layers.timeDistributed({layer: tf.model({inputs: s, outputs: a, name: 'enc3'}), name: 'td'});
  const x1 = tf.input({shape: [4, 5], name: 'x1'});
  const x2 = tf.input({shape: [4, 5], name: 'x2'});
  const h = tf.layers.concatenate({name: 'cat'}).apply([td.apply(x1), td.apply(x2)]);
  cases.push(makeCase('td_model_shared', tf.model({inputs: [x1, x2], outputs: tf.layers.gru({units: 2, name: 'top'}).apply(h)}),
      [uniform([B, 4, 5], -1, 1), uniform([B, 4, 5], -1, 1)]));
}
{
  const s = tf.input({shape: [5], name: 's'});
  const a = tf.layers.batchNormalization({name: 'bn'}).apply(tf.layers.dense({units: 3, name: 'dd'}).apply(s));
  const enc = tf.model({inputs: s, outputs: a, name: 'enc4'});
  const y = tf.input({shape: [4, 5], name: 'y'});
  let b = tf.layers.dense({units: 5, name: 'pre'}).apply(y);
  b = tf.layers.timeDistributed({layer: enc, name: 'td'}).apply(b);
  b = tf.layers.batchNormalization({name: 'obn'}).apply(b);
  const mid = tf.model({inputs: y, outputs: b, name: 'mid'});
  const x = tf.input({shape: [4, 5], name: 'x'});
  const h = tf.layers.lstm({units: 2, name: 'top', recurrentActivation: 'sigmoid'}).apply(mid.apply(x));
  cases.push(makeCase('td_model_in_nested_model', tf.model({inputs: x, outputs: h}), [uniform([B, 4, 5], -1, 1)]));
}
{
  const s = tf.input({shape: [null, 4], name: 's'});
  const enc = tf.model({inputs: s, outputs: tf.layers.dense({units: 2, name: 'dn'}).apply(s), name: 'free_steps'});
  const x = tf.input({shape: [3, 6, 4], name: 'x'});
  let h = tf.layers.timeDistributed({layer: enc, name: 'td'}).apply(x);
  h = tf.layers.reshape({targetShape: [3, 12], name: 'rs'}).apply(h);
  cases.push(makeCase('td_model_free_steps', tf.model({inputs: x, outputs: tf.layers.gru({units: 2, name: 'top'}).apply(h)}),
      [uniform([B, 3, 6, 4], -1, 1)]));
}

// frozen cells (trainable=False): Keras 2 lists a stack's trainable cells' weights first, then the frozen
// ones', and a nested model's list puts frozen cells' weights among the non-trainable ones
{
  const lstm3 = (frozen) => tf.layers.lstmCell({units: 3, recurrentActivation: 'sigmoid', trainable: !frozen});
  const x = tf.input({shape: [6, 3], name: 'x'});
  const a = tf.layers.rnn({cell: [lstm3(false), lstm3(true), lstm3(false)], name: 'stack'}).apply(x);
  const frozenRnn = tf.layers.rnn({cell: [lstm3(false), lstm3(true), lstm3(false)], name: 'frozen_rnn',
    trainable: false}).apply(tf.layers.repeatVector({n: 2, name: 'rep'}).apply(a));
  cases.push(makeCase('frozen_cells', tf.model({inputs: x, outputs: [a, frozenRnn]}), [uniform([B, 6, 3], -1, 1)]));

  const s = tf.input({shape: [6, 3], name: 's'});
  let e = tf.layers.dense({units: 3, name: 'pre'}).apply(s);
  e = tf.layers.rnn({cell: [lstm3(true), lstm3(true)], returnSequences: true, name: 'all_frozen'}).apply(e);
  e = tf.layers.rnn({cell: [lstm3(false), lstm3(true)], returnSequences: true, name: 'one_frozen'}).apply(e);
  e = tf.layers.rnn({cell: lstm3(true), name: 'one_cell_frozen'}).apply(e);
  e = tf.layers.dense({units: 3, name: 'post'}).apply(e);
  const enc = tf.model({inputs: s, outputs: e, name: 'frozen_parts'});
  const y = tf.input({shape: [4, 6, 3], name: 'y'});
  const viaTd = tf.layers.simpleRNN({units: 2, name: 'top'}).apply(
      tf.layers.timeDistributed({layer: enc, name: 'td'}).apply(y));
  const z = tf.input({shape: [6, 3], name: 'z'});
  const s2 = tf.input({shape: [6, 3], name: 's2'});
  let n = tf.layers.rnn({cell: lstm3(true), returnSequences: true, name: 'n_one_cell_frozen'}).apply(s2);
  n = tf.layers.lstm({units: 3, recurrentActivation: 'sigmoid', returnSequences: true, name: 'n_lstm'}).apply(n);
  n = tf.layers.rnn({cell: [lstm3(true), lstm3(false)], name: 'n_stack'}).apply(n);
  const nested = tf.model({inputs: s2, outputs: n, name: 'nested_frozen'});
  cases.push(makeCase('frozen_cells_in_models', tf.model({inputs: [y, z], outputs: [viaTd, nested.apply(z)]}),
      [uniform([B, 4, 6, 3], -1, 1), uniform([B, 6, 3], -1, 1)]));
}

// a stateful Bidirectional layer and a stateful go_backwards SimpleRNN, masked, over two calls
{
  const x = tf.input({batchShape: [B, 5, 3], name: 'x'});
  const m = tf.layers.masking({maskValue: 0, name: 'masking'}).apply(x);
  const bi = tf.layers.bidirectional({layer: tf.layers.gru({units: 3, stateful: true, returnSequences: true}),
    name: 'bi'}).apply(m);
  const back = tf.layers.simpleRNN({units: 2, stateful: true, goBackwards: true, name: 'back'}).apply(m);
  const first = uniform([B, 5, 3], -1, 1).arraySync();
  first[1][4].fill(0);
  const second = uniform([B, 5, 3], -1, 1).arraySync();
  second[0][0].fill(0);
  second[2][4].fill(0);
  second[2][3].fill(0);
  cases.push(makeCase('stateful_bidirectional_and_backwards', tf.model({inputs: x, outputs: [bi, back]}),
      [tf.tensor(first)], [[tf.tensor(second)]]));
}

// TimeDistributed(Bidirectional) over [batch, steps, time, features], then an LSTM; a wrapped
// go_backwards layer returning its states
{
  const x = tf.input({shape: [3, 5, 2], name: 'x'});
  let h = tf.layers.timeDistributed({layer: tf.layers.bidirectional({layer: tf.layers.lstm({units: 2,
    recurrentActivation: 'sigmoid'}), mergeMode: 'sum'}), name: 'td_bi'}).apply(x);
  h = tf.layers.lstm({units: 3, name: 'over_steps'}).apply(h);
  const y = tf.input({shape: [null, 2], name: 'y'});
  const ym = tf.layers.masking({maskValue: 0, name: 'mask_y'}).apply(y);
  const outs = tf.layers.bidirectional({layer: tf.layers.gru({units: 2, goBackwards: true, returnState: true}),
    mergeMode: 'concat', name: 'bi_back'}).apply(ym);
  const ys = uniform([B, 6, 2], -1, 1).arraySync();
  ys[0][5].fill(0);
  ys[1][0].fill(0);
  ys[1][1].fill(0);
  cases.push(makeCase('time_distributed_bidirectional_and_backwards_states',
      tf.model({inputs: [x, y], outputs: [h, ...outs]}), [uniform([B, 3, 5, 2], -1, 1), tf.tensor(ys)]));
}

// a Sequential model (its config a list of layers, the input shape on the first): Embedding(mask_zero,
// input_length) into stacked LSTMs and a TimeDistributed head
{
  const model = tf.sequential({name: 'tagger', layers: [
    tf.layers.embedding({inputDim: 15, outputDim: 4, maskZero: true, inputLength: T, name: 'words'}),
    tf.layers.lstm({units: 5, returnSequences: true, recurrentActivation: 'sigmoid', name: 'lstm_1'}),
    tf.layers.gru({units: 4, returnSequences: true, goBackwards: true, name: 'gru_2'}),
    tf.layers.timeDistributed({layer: tf.layers.dense({units: 3, activation: 'softmax'}), name: 'tags'})]});
  cases.push(makeCase('sequential_tagger', model, [paddedIds(B, T, 15)]));
}

// refused: a frozen TimeDistributed(model) inside a nested model (Keras 2 keeps its weights in an order
// rnnrt does not rebuild); the case says what the refusal names
{
  const s = tf.input({shape: [5], name: 's'});
  const enc = tf.model({inputs: s, outputs: tf.layers.dense({units: 5, name: 'ed'}).apply(s), name: 'enc_t'});
  const y = tf.input({shape: [4, 5], name: 'y'});
  const tdl = tf.layers.timeDistributed({layer: enc, name: 'td'});
  let b = tdl.apply(tf.layers.dense({units: 5, name: 'pre'}).apply(y));
  tdl.trainable = false;
  b = tf.layers.dense({units: 5, name: 'post'}).apply(b);
  const mid = tf.model({inputs: y, outputs: b, name: 'mid_t'});
  const x = tf.input({shape: [4, 5], name: 'x'});
  const c = makeCase('frozen_td_model_in_nested_model', tf.model({inputs: x, outputs: mid.apply(x)}),
      [uniform([B, 4, 5], -1, 1)]);
  c.refusal = 'frozen (trainable=False) inside a nested model';
  cases.push(c);
}

fs.writeFileSync(path.join(__dirname, '..', 'resources', 'fixtures', 'tfjs', 'tfjs_cases.json'),
    JSON.stringify({generator: 'make_tfjs_fixtures.js (TensorFlow.js ' + tf.version.tfjs + ', cpu backend)', cases}));
console.log(cases.length + ' cases');
