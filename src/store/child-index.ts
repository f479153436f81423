/**
 * Finds a prefix-tree node by (parent, frame): an open-addressing hash table of node ids over the
 * dictionary's own parent and frame arrays. It replaced a Map keyed by `parent * 2^26 + frame`, whose keys
 * outgrow small integers and made the lookup most of the store's per-request work (measured on the
 * receiver-ingest benchmark's requests: ~0.85 s of 2.4 s resolving rows).
 */

/** Table size starts here and doubles; kept at most half full so probe runs stay short. */
const INITIAL_SLOTS = 1 << 17;
/** Slot value for "empty": node 0 is the root, nobody's child. */
const EMPTY = 0;

function slotHash(parent: number, frame: number): number {
  let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(frame, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 13);
}

export class ChildIndex {
  private slots = new Int32Array(INITIAL_SLOTS);
  private used = 0;

  /**
   * The id of the node under `parent` for `frame` among the nodes indexed so far; when there is none,
   * indexes `newId` for it and returns `newId` (the caller then stores that node's parent and frame).
   */
  childOf(parent: number, frame: number, newId: number, parents: Int32Array, frames: Int32Array): number {
    let mask = this.slots.length - 1;
    for (let i = slotHash(parent, frame) & mask; ; i = (i + 1) & mask) {
      const id = this.slots[i]!;
      if (id === EMPTY) break;
      if (parents[id] === parent && frames[id] === frame) return id;
    }
    if ((this.used + 1) * 2 > this.slots.length) this.grow(parents, frames);
    mask = this.slots.length - 1;
    let i = slotHash(parent, frame) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = newId;
    this.used++;
    return newId;
  }

  /** Indexes exactly the nodes 1..count-1 (after a rollback forgot the newer ones). */
  rebuild(count: number, parents: Int32Array, frames: Int32Array): void {
    this.slots.fill(EMPTY);
    this.used = 0;
    for (let id = 1; id < count; id++) this.place(id, parents, frames);
  }

  private grow(parents: Int32Array, frames: Int32Array): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.used = 0;
    for (const id of old) if (id !== EMPTY) this.place(id, parents, frames);
  }

  private place(id: number, parents: Int32Array, frames: Int32Array): void {
    const mask = this.slots.length - 1;
    let i = slotHash(parents[id]!, frames[id]!) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = id;
    this.used++;
  }
}
