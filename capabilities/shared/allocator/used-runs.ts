/**
 * The used addresses of one CIDR, stored as sorted, disjoint runs [start, end] so that
 * memory grows with what is allocated, never with the size of the range, and the
 * lowest free address is found by a binary search plus a jump per run.
 *
 * Addresses the pool never hands out (IPv4 .0/.255 under avoidBuggyIPs) are "skipped":
 * a run may swallow them so that runs separated only by skipped addresses merge. Without
 * that, an avoidBuggyIPs /8 filled sequentially would hold one run per /24 and every
 * search would walk all of them.
 *
 * Invariant: every used address lies in a run; every address in a run is used or skipped.
 */
export class UsedRuns {
  private readonly starts: bigint[] = [];
  private readonly ends: bigint[] = [];

  /** @param isSkipped addresses that are never free (undefined: none). */
  constructor(private readonly isSkipped?: (value: bigint) => boolean) {}

  /** Number of runs (for tests and the benchmark: a measure of fragmentation). */
  get runCount(): number {
    return this.starts.length;
  }

  /** Marks an address used. The caller adds each address once (it keeps reference counts). */
  add(value: bigint): void {
    const i = this.floor(value);
    if (i >= 0 && this.ends[i] >= value) return;
    const next = i + 1;
    const joinLeft = i >= 0 && this.onlySkippedBetween(this.ends[i], value);
    const joinRight = next < this.starts.length && this.onlySkippedBetween(value, this.starts[next]);
    if (joinLeft && joinRight) {
      this.ends[i] = this.ends[next];
      this.starts.splice(next, 1);
      this.ends.splice(next, 1);
    } else if (joinLeft) {
      this.ends[i] = value;
    } else if (joinRight) {
      this.starts[next] = value;
    } else {
      this.starts.splice(next, 0, value);
      this.ends.splice(next, 0, value);
    }
  }

  /** Marks an address free again. Neighbouring runs stay split; that only costs a jump. */
  remove(value: bigint): void {
    const i = this.floor(value);
    if (i < 0 || this.ends[i] < value) return;
    const start = this.starts[i];
    const end = this.ends[i];
    if (start === value && end === value) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (start === value) {
      this.starts[i] = value + 1n;
    } else if (end === value) {
      this.ends[i] = value - 1n;
    } else {
      this.ends[i] = value - 1n;
      this.starts.splice(i + 1, 0, value + 1n);
      this.ends.splice(i + 1, 0, end);
    }
  }

  has(value: bigint): boolean {
    const i = this.floor(value);
    return i >= 0 && this.ends[i] >= value;
  }

  /** The lowest address in [low, high] that is neither used nor skipped. */
  lowestFree(low: bigint, high: bigint): bigint | undefined {
    let candidate = this.skipForward(low);
    while (candidate <= high) {
      const i = this.floor(candidate);
      if (i < 0 || this.ends[i] < candidate) return candidate;
      candidate = this.skipForward(this.ends[i] + 1n);
    }
    return undefined;
  }

  /** Index of the last run starting at or before value, or -1. */
  private floor(value: bigint): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= value) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private skipForward(value: bigint): bigint {
    let v = value;
    while (this.isSkipped?.(v)) v += 1n;
    return v;
  }

  /** True when every address strictly between a and b is skipped (so a run may span them). */
  private onlySkippedBetween(a: bigint, b: bigint): boolean {
    const gap = b - a - 1n;
    if (gap === 0n) return true;
    // Skipped addresses come at most two in a row (.255 then .0).
    if (!this.isSkipped || gap > 2n) return false;
    for (let v = a + 1n; v < b; v += 1n) if (!this.isSkipped(v)) return false;
    return true;
  }
}
