import { MembershipPublisher, type MembershipStore } from "./membership";
import { parseRoster, type Roster } from "./roster";

const roster = (voters: string[]): Roster => ({
  voters,
  tiebreaker: voters.length > 0 && voters.length % 2 === 0,
  addresses: Object.fromEntries(voters.map((v) => [v, `addr-${v}`])),
});

function memoryStore(initial?: string) {
  const writes: { at: number; roster: Roster }[] = [];
  let text = initial;
  let rv = initial ? 1 : 0;
  const keys: Buffer[] = [];
  const store: MembershipStore = {
    readRoster: async () => ({ roster: parseRoster(text), resourceVersion: rv ? String(rv) : undefined }),
    writeRoster: async (t, resourceVersion) => {
      if ((resourceVersion ?? "0") !== String(rv)) throw Object.assign(new Error("conflict"), { status: 409 });
      text = t;
      rv++;
      writes.push({ at: Date.now(), roster: parseRoster(t)! });
      return String(rv);
    },
    ensureKey: async (key) => {
      if (keys.length === 0) keys.push(key);
    },
  };
  return { store, writes, keys, bump: () => rv++ };
}

/** Each write at least stepMs after the one before, and not much later (timer granularity). */
const expectPaced = (writes: { at: number }[], stepMs: number) => {
  for (let i = 1; i < writes.length; i++) {
    const gap = writes[i].at - writes[i - 1].at;
    expect(gap).toBeGreaterThanOrEqual(stepMs);
    expect(gap).toBeLessThan(stepMs + 50);
  }
};

describe("MembershipPublisher", () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it("creates the key once, publishes the first roster at once, then one step per stepMs", async () => {
    const m = memoryStore();
    const p = new MembershipPublisher(m.store, { stepMs: 5000 });
    await p.start();
    expect(m.keys).toHaveLength(1);
    expect(m.keys[0]).toHaveLength(32);
    p.setTarget(roster(["a", "b", "c"]));
    await jest.advanceTimersByTimeAsync(1);
    expect(m.writes.map((w) => w.roster.voters)).toEqual([["a", "b", "c"]]);
    p.setTarget(roster(["a", "b", "c", "d"]));
    await jest.advanceTimersByTimeAsync(4000);
    expect(m.writes).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1100);
    await jest.advanceTimersByTimeAsync(5000);
    expect(m.writes.map((w) => [w.roster.voters.join(""), w.roster.tiebreaker])).toEqual([
      ["abc", false],
      ["abcd", false],
      ["abcd", true],
    ]);
    expectPaced(m.writes, 5000);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(m.writes).toHaveLength(3);
    p.stop();
  });

  it("after a restart it steps from what is published, waiting a full step first", async () => {
    const m = memoryStore(JSON.stringify(roster(["a"])));
    const p = new MembershipPublisher(m.store, { stepMs: 5000 });
    await p.start();
    p.setTarget(roster(["a", "b", "c"]));
    await jest.advanceTimersByTimeAsync(12_000);
    expect(m.writes.map((w) => w.roster.voters.join(""))).toEqual(["ab", "abc"]);
    expectPaced([{ at: 1_000_000 }, ...m.writes], 5000);
    p.stop();
  });

  it("a conflicting write re-reads and goes on from what it finds", async () => {
    const m = memoryStore(JSON.stringify(roster(["a"])));
    const p = new MembershipPublisher(m.store, { stepMs: 1000 });
    await p.start();
    m.bump(); // someone else wrote it since
    p.setTarget(roster(["a", "b"]));
    await jest.advanceTimersByTimeAsync(30_000);
    expect(m.writes.at(-1)!.roster).toEqual(roster(["a", "b"]));
    p.stop();
  });
});
