/**
 * The used addresses of one CIDR, stored as disjoint runs [start, end] in a treap (a
 * randomized balanced search tree) so that memory grows with what is allocated, never
 * with the size of the range, and finding the lowest free address, adding and removing
 * an address each cost O(log runs) (plus a jump per run that a removal left split).
 *
 * Addresses the pool never hands out (IPv4 .0/.255 under avoidBuggyIPs) are "skipped":
 * a run may swallow them so that runs separated only by skipped addresses merge. Without
 * that, an avoidBuggyIPs /8 filled sequentially would hold one run per /24 and every
 * search would walk all of them.
 *
 * Invariant: every used address lies in a run; every address in a run is used or skipped.
 */
interface Run {
  start: bigint;
  end: bigint;
  /** Treap heap key: random, so the tree stays balanced in expectation whatever the order of runs. */
  readonly priority: number;
  left?: Run;
  right?: Run;
}

export class UsedRuns {
  private root: Run | undefined;
  private count = 0;

  /** @param isSkipped addresses that are never free (undefined: none). */
  constructor(private readonly isSkipped?: (value: bigint) => boolean) {}

  /** Number of runs (for tests and the benchmark: a measure of fragmentation). */
  get runCount(): number {
    return this.count;
  }

  /** Marks an address used. The caller adds each address once (it keeps reference counts). */
  add(value: bigint): void {
    const left = this.floor(value);
    if (left && left.end >= value) return;
    const right = this.after(value);
    const joinLeft = left !== undefined && this.onlySkippedBetween(left.end, value);
    const joinRight = right !== undefined && this.onlySkippedBetween(value, right.start);
    // Moving a run's bounds in place keeps the tree ordered: runs never overlap.
    if (joinLeft && joinRight) {
      left.end = right.end;
      this.delete(right.start);
    } else if (joinLeft) {
      left.end = value;
    } else if (joinRight) {
      right.start = value;
    } else {
      this.insert(value, value);
    }
  }

  /** Marks an address free again. Neighbouring runs stay split; that only costs a jump. */
  remove(value: bigint): void {
    const run = this.floor(value);
    if (!run || run.end < value) return;
    if (run.start === value && run.end === value) {
      this.delete(run.start);
    } else if (run.start === value) {
      run.start = value + 1n;
    } else if (run.end === value) {
      run.end = value - 1n;
    } else {
      const end = run.end;
      run.end = value - 1n;
      this.insert(value + 1n, end);
    }
  }

  has(value: bigint): boolean {
    const run = this.floor(value);
    return run !== undefined && run.end >= value;
  }

  /** The lowest address in [low, high] that is neither used nor skipped. */
  lowestFree(low: bigint, high: bigint): bigint | undefined {
    let candidate = this.skipForward(low);
    while (candidate <= high) {
      const run = this.floor(candidate);
      if (!run || run.end < candidate) return candidate;
      candidate = this.skipForward(run.end + 1n);
    }
    return undefined;
  }

  /** The run with the greatest start at or before value. */
  private floor(value: bigint): Run | undefined {
    let best: Run | undefined;
    for (let n = this.root; n; ) {
      if (n.start <= value) {
        best = n;
        n = n.right;
      } else {
        n = n.left;
      }
    }
    return best;
  }

  /** The run with the smallest start after value. */
  private after(value: bigint): Run | undefined {
    let best: Run | undefined;
    for (let n = this.root; n; ) {
      if (n.start > value) {
        best = n;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    return best;
  }

  private insert(start: bigint, end: bigint): void {
    this.root = insertRun(this.root, { start, end, priority: Math.random() });
    this.count++;
  }

  private delete(start: bigint): void {
    this.root = deleteRun(this.root, start);
    this.count--;
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

// Treap primitives (recursion depth is the tree height: O(log runs) in expectation).

/** Splits into runs starting before key and runs starting at or after it. */
function split(t: Run | undefined, key: bigint): [Run | undefined, Run | undefined] {
  if (!t) return [undefined, undefined];
  if (t.start < key) {
    const [l, r] = split(t.right, key);
    t.right = l;
    return [t, r];
  }
  const [l, r] = split(t.left, key);
  t.left = r;
  return [l, t];
}

/** Joins two treaps where every start in a precedes every start in b. */
function merge(a: Run | undefined, b: Run | undefined): Run | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return a;
  }
  b.left = merge(a, b.left);
  return b;
}

function insertRun(t: Run | undefined, run: Run): Run {
  if (!t) return run;
  if (run.priority > t.priority) {
    [run.left, run.right] = split(t, run.start);
    return run;
  }
  if (run.start < t.start) t.left = insertRun(t.left, run);
  else t.right = insertRun(t.right, run);
  return t;
}

function deleteRun(t: Run | undefined, start: bigint): Run | undefined {
  if (!t) return undefined;
  if (t.start === start) return merge(t.left, t.right);
  if (start < t.start) t.left = deleteRun(t.left, start);
  else t.right = deleteRun(t.right, start);
  return t;
}
