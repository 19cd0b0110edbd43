'use strict';
// Every collection method of the Node SDK (dictionaries, sets, lists, sorted
// sets) against one gateway: hits, misses, the collection semantics the
// gateway promises (TTL refresh, deletion of an emptied collection, list
// ranges and truncation, sorted-set order and score bounds, wrong types),
// denials by scope, and bad input.
//
// A few checks go below the SDK's public methods, to reach the gateway with
// what the SDK cannot express or refuses itself: exclusive score bounds (the
// SDK only sends inclusive ones) and empty collection names (the SDK refuses
// them before sending). They use the SDK's own data client and generated
// protobuf types, so the request still carries the SDK's headers.
//
// This module holds what the collections_*.test.js files share (it is not a
// test file: run.sh runs ./*.test.js). Each of those files starts its own
// gateway with the harness's gatewayForSuite.

const assert = require('node:assert/strict');
const { sdk, CACHE, expectType } = require('./harness');
const { MomentoErrorCode, SortedSetOrder } = sdk;
const grpcCache = require('@gomomento/generated-types').cache.cache_client;

const DENIED = MomentoErrorCode.PERMISSION_ERROR;
const WRONG_TYPE = MomentoErrorCode.FAILED_PRECONDITION_ERROR;
const INVALID = MomentoErrorCode.INVALID_ARGUMENT_ERROR;
const { Ascending, Descending } = SortedSetOrder;

/** A sorted-set fetch hit as [value, score] pairs. */
const pairs = hit => hit.valueArrayStringElements().map(e => [e.value, e.score]);
/** A sorted-set fetch hit's values only. */
const values = hit => hit.valueArrayStringElements().map(e => e.value);
/** A set response's elements, sorted (sets have no order). */
const sorted = strings => [...strings].sort();
/** The gRPC status code an SDK error carries. */
const grpcCode = resp => resp.innerException().transportDetails().grpc.code;

/** The remaining TTL of `name` in ms (asserting a hit). */
async function ttlOf(c, name, what) {
  return expectType(await c.itemGetTtl(CACHE, name), 'Hit', `itemGetTtl ${what}`).remainingTtlMillis();
}

/** Asserts `lo < ttl <= hi` (ms) with a message naming the case. */
function assertTtlWithin(ttl, lo, hi, what) {
  assert.ok(ttl > lo && ttl <= hi, `${what}: remaining TTL ${ttl} ms, expected in (${lo}, ${hi}]`);
}

/**
 * Sends one unary Scs RPC through `client`'s first data client (its channel,
 * headers and credential) and resolves with `{ err, resp }`.
 */
function rawScs(client, method, request) {
  const dc = client.dataClients[0];
  return new Promise(resolve => {
    dc.clientWrapper
      .getClient()
      [method](request, dc.createMetadata(CACHE), { interceptors: dc.interceptors }, (err, resp) => resolve({ err, resp }));
  });
}

module.exports = {
  DENIED,
  WRONG_TYPE,
  INVALID,
  Ascending,
  Descending,
  grpcCache,
  pairs,
  values,
  sorted,
  grpcCode,
  ttlOf,
  assertTtlWithin,
  rawScs,
};
