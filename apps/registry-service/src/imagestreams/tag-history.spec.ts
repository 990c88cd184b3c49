import type { ImageStream, TagEvent } from '@paas/contracts/images';
import { withoutDeleted } from './tag-history';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const item = (c: string): TagEvent => ({ created: '', dockerImageReference: `r/ns/app@${digest(c)}`, image: digest(c), generation: 1 });
const stream = (tags: Record<string, string[]>): ImageStream => ({
  apiVersion: 'v1',
  kind: 'ImageStream',
  metadata: { name: 'app', namespace: 'ns', uid: 'u', resourceVersion: '1', generation: 1, creationTimestamp: '' },
  spec: { tags: [] },
  status: { dockerImageRepository: 'r/ns/app', tags: Object.entries(tags).map(([tag, items]) => ({ tag, items: items.map(item) })) },
});
const shape = (s: ImageStream | undefined) => s && Object.fromEntries(s.status.tags.map((t) => [t.tag, t.items.map((i) => i.image)]));

describe('withoutDeleted', () => {
  it('removes a tag whose current image was deleted, and drops the image from older history', () => {
    expect(shape(withoutDeleted(stream({ latest: ['b', 'a'], v1: ['a'], v2: ['c', 'a'] }), { digest: digest('a') }))).toEqual({ latest: [digest('b')], v2: [digest('c')] });
  });

  it('removes a deleted tag with its history', () => {
    expect(shape(withoutDeleted(stream({ latest: ['b', 'a'], v1: ['a'] }), { tag: 'latest' }))).toEqual({ v1: [digest('a')] });
  });

  it('answers undefined when the stream does not name what was deleted', () => {
    expect(withoutDeleted(stream({ latest: ['b'] }), { digest: digest('z') })).toBeUndefined();
    expect(withoutDeleted(stream({ latest: ['b'] }), { tag: 'other' })).toBeUndefined();
  });
});
