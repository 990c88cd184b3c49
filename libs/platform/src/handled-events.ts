/**
 * What one replica knows of the deliveries it handles: those in hand, and the latest ones it
 * handled and acked. JetStream delivers a message again when its ack did not reach the
 * consumer's leader in time, and a newly elected leader (the old one's server lost) may hand
 * out again what the old one had out. A delivery of a message in hand is left to the one in
 * hand (its ack or nak settles the message), and one handled lately is acked without running
 * the handler again. Handlers stay idempotent: another replica sharing the consumer may get
 * the redelivery, and this memory is bounded.
 */
export class HandledEvents {
  private readonly inHand = new Set<string>();
  /** Oldest first (a Set keeps insertion order). */
  private readonly handled = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  /** What to do with a delivery of `key` (its consumer and stream sequence): handle it, leave it, or only ack it. */
  check(key: string): 'handle' | 'in-hand' | 'handled' {
    if (this.inHand.has(key)) return 'in-hand';
    return this.handled.has(key) ? 'handled' : 'handle';
  }

  take(key: string): void {
    this.inHand.add(key);
  }

  /** The delivery in hand is settled: remembered when it was handled, forgotten when it will come again. */
  settle(key: string, handled: boolean): void {
    this.inHand.delete(key);
    if (!handled) return;
    this.handled.add(key);
    if (this.handled.size > this.capacity) this.handled.delete(this.handled.values().next().value as string);
  }
}
