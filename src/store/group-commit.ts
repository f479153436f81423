/**
 * Group commit: submissions that arrive while a write is running wait and then go into the next write
 * together, so one durable commit (one log sync) serves many requests. Each submission still settles on
 * its own: the write returns one outcome per item, so a bad item fails alone, and every item settles
 * only after the write that holds it finished.
 */

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (value: R) => void;
  readonly reject: (reason: unknown) => void;
}

export class GroupCommit<T, R> {
  private waiting: Waiting<T, R>[] = [];

  /**
   * @param schedule runs a job after the writes already scheduled (the store's serial write queue)
   * @param write writes a group in one commit; outcome i belongs to item i. A throw fails the whole group.
   */
  constructor(
    private readonly schedule: (job: () => Promise<void>) => void,
    private readonly write: (items: readonly T[]) => Promise<PromiseSettledResult<R>[]>,
  ) {}

  /** How many submissions wait for the next write. */
  get size(): number {
    return this.waiting.length;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      // The first waiter schedules the write; later ones join it until it starts.
      if (this.waiting.length === 1) this.schedule(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    let outcomes: PromiseSettledResult<R>[];
    try {
      outcomes = await this.write(group.map((w) => w.item));
    } catch (err) {
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'fulfilled') w.resolve(outcome.value);
      else w.reject(outcome ? outcome.reason : new Error('group commit returned no outcome for a request'));
    });
  }
}
