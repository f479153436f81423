import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServe } from '../serve/serve-fixtures.js';
import {
  CAPTURE_TOTAL,
  exportCapture,
  getJson,
  startTestServe,
  storedTotal,
} from '../serve/serve-fixtures.js';

/**
 * The real exporter (`export --endpoint`) into a real serve, over every protocol: what the queries total
 * is exactly what the capture holds, and a second export doubles it (nothing merged away, nothing lost).
 */
describe('receiver: the real exporter into serve', () => {
  for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
    describe(protocol, () => {
      let serve: TestServe;
      before(async () => {
        serve = await startTestServe();
      });
      after(() => serve.cleanup());

      it('stores every sample of the capture; the API totals equal the capture', async () => {
        const res = await exportCapture(serve.app, protocol);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(await storedTotal(serve.app.httpUrl), CAPTURE_TOTAL);
        const types = await getJson(serve.app.httpUrl, '/api/profile-types');
        const list = types.body.types as { id: string }[];
        assert.ok(
          list.some((t) => t.id === 'samples/count'),
          JSON.stringify(list),
        );
        const labels = (await getJson(serve.app.httpUrl, '/api/labels')).body.labels as Record<
          string,
          unknown
        >;
        for (const key of ['k8s.namespace.name', 'k8s.pod.name', 'k8s.node.name', 'service.name']) {
          assert.ok(key in labels, `label ${key} in ${Object.keys(labels).join(', ')}`);
        }
        // Per-namespace totals add up to the whole.
        const namespaces = labels['k8s.namespace.name'] as { value: string }[];
        let sum = 0n;
        for (const { value } of namespaces) {
          sum += await storedTotal(serve.app.httpUrl, `?k8s.namespace.name=${encodeURIComponent(value)}`);
        }
        assert.equal(sum, CAPTURE_TOTAL);
      });

      it('a second export of the same capture adds to it', async () => {
        const res = await exportCapture(serve.app, protocol, ['--compression', 'none']);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(await storedTotal(serve.app.httpUrl), 2n * CAPTURE_TOTAL);
      });
    });
  }
});
