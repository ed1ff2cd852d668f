import {
  ANNOUNCED_LINGER_MS,
  ANNOUNCEMENT_LOOKBACK_MS,
  RELEASE_GRACE_MS,
  releaseStep,
  type ReleaseInput,
} from "./release";

const svc = "ns/web";
const ip = "192.0.2.10";
const base = (over: Partial<ReleaseInput> = {}): ReleaseInput => ({
  serving: true,
  answered: new Map([[svc, [ip]]]),
  owned: new Map(),
  movedToLive: new Set([svc]),
  releasing: new Map(),
  announcedAt: new Map(),
  now: 10_000,
  ...over,
});

describe("L2 release (make-before-break on a move between live nodes)", () => {
  it("keeps answering a Service moved to a live node until that node announces it", () => {
    const first = releaseStep(base());
    expect(first.releasing.get(svc)).toEqual({ ips: [ip], since: 10_000 });
    expect(first.recheckAt).toBe(10_000 + RELEASE_GRACE_MS);
    // Still unannounced 300 ms later: still answered, same start.
    const later = releaseStep(base({ releasing: first.releasing, now: 10_300 }));
    expect(later.releasing.get(svc)?.since).toBe(10_000);
    // The new owner's gratuitous ARP: still answered for the linger, then let go.
    const heard = new Map([[ip, 10_390]]);
    const lingering = releaseStep(base({ releasing: later.releasing, now: 10_400, announcedAt: heard }));
    expect(lingering.releasing.has(svc)).toBe(true);
    expect(lingering.recheckAt).toBe(10_390 + ANNOUNCED_LINGER_MS);
    const done = releaseStep(
      base({ releasing: lingering.releasing, now: 10_390 + ANNOUNCED_LINGER_MS, announcedAt: heard }),
    );
    expect(done.releasing.size).toBe(0);
    expect(done.recheckAt).toBeUndefined();
  });

  it("an announcement seen just before the move counts (the new owner's watch was faster)", () => {
    const at = 10_000 - ANNOUNCEMENT_LOOKBACK_MS + 1;
    const early = releaseStep(base({ announcedAt: new Map([[ip, at]]) }));
    expect(early.releasing.size).toBe(0);
    const stale = releaseStep(base({ announcedAt: new Map([[ip, 10_000 - ANNOUNCEMENT_LOOKBACK_MS - 1]]) }));
    expect(stale.releasing.has(svc)).toBe(true);
  });

  it("every IP of a dual-stack Service must be announced", () => {
    const v6 = "2001:db8::10";
    const half = releaseStep(base({ answered: new Map([[svc, [ip, v6]]]), announcedAt: new Map([[ip, 10_000]]) }));
    expect(half.releasing.has(svc)).toBe(true);
  });

  it("lets go after the grace period when no announcement reaches this node", () => {
    const first = releaseStep(base());
    expect(releaseStep(base({ releasing: first.releasing, now: 10_000 + RELEASE_GRACE_MS })).releasing.size).toBe(0);
  });

  it("keeps nothing while not serving: a fenced node never overlaps with anyone", () => {
    const first = releaseStep(base());
    expect(releaseStep(base({ serving: false, releasing: first.releasing })).releasing.size).toBe(0);
    expect(releaseStep(base({ serving: false })).releasing.size).toBe(0);
  });

  it("ends at once when the new owner is judged down or the record is gone", () => {
    const first = releaseStep(base());
    expect(releaseStep(base({ releasing: first.releasing, movedToLive: new Set() })).releasing.size).toBe(0);
  });

  it("a Service this node still (or again) answers by its role is not a release", () => {
    expect(releaseStep(base({ owned: new Map([[svc, [ip]]]) })).releasing.size).toBe(0);
  });

  it("a Service this node did not answer is never picked up", () => {
    expect(releaseStep(base({ answered: new Map() })).releasing.size).toBe(0);
  });
});
