import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PipelineSpec } from '../../../src/model/pipeline-spec.js';
import type { SourceConnector } from '../../../src/sources/source-connector.js';
import { SourceRegistry } from '../../../src/sources/source-registry.js';

/** A connector that only records being closed (the registry calls nothing else). */
function fakeConnector(closed: string[], name: string): SourceConnector {
  return { close: () => Promise.resolve(void closed.push(name)) } as unknown as SourceConnector;
}

const spec = (name: string, host = 'a'): PipelineSpec =>
  ({ name, mode: 'merge', keyless: 'reject', snapshot: {}, source: { kind: 'postgres', host } }) as unknown as PipelineSpec;

describe('SourceRegistry: one open source per pipeline', () => {
  test('get reuses the connector until the spec changes; peek never opens one; release and closeAll forget them', async () => {
    const closed: string[] = [];
    let made = 0;
    const registry = new SourceRegistry((s) => fakeConnector(closed, `${s.name}#${++made}`));
    assert.equal(registry.peek('p'), undefined, 'nothing open: peek opens nothing');
    assert.equal(made, 0);
    const first = await registry.get(spec('p'));
    assert.equal(await registry.get(spec('p')), first);
    assert.equal(registry.peek('p'), first);
    const second = await registry.get(spec('p', 'b'));
    assert.notEqual(second, first);
    assert.deepEqual(closed, ['p#1'], 'a changed spec closes the old connector');
    await registry.release('p');
    assert.equal(registry.peek('p'), undefined, 'released: an idle timer firing later finds nothing to let go of');
    assert.deepEqual(closed, ['p#1', 'p#2']);
    await registry.get(spec('q'));
    await registry.closeAll();
    assert.equal(registry.peek('q'), undefined);
    assert.deepEqual(closed, ['p#1', 'p#2', 'q#3']);
    assert.equal(made, 3);
  });
});
