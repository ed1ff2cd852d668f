import { IPV4_UNICAST, IPV6_UNICAST } from "./messages";
import { refreshDone, refreshDue, refreshRequested, refreshState, type RefreshState } from "./refresh";

const INTERVAL = 5000;

describe("ROUTE-REFRESH answers (RFC 2918 §4): coalesced and rate-limited per family", () => {
  it("the first request is answered at once", () => {
    const r = refreshRequested(refreshState(INTERVAL), IPV4_UNICAST, 1000);
    expect(r.action).toEqual({ type: "start" });
  });

  it("requests during an answer coalesce into one more answer, after the interval", () => {
    let s: RefreshState = refreshRequested(refreshState(INTERVAL), IPV4_UNICAST, 0).state;
    for (let t = 1; t <= 10_000; t++) {
      const r = refreshRequested(s, IPV4_UNICAST, t / 10);
      expect(r.action).toEqual({ type: "none" });
      s = r.state;
    }
    const done = refreshDone(s, IPV4_UNICAST, 1200);
    expect(done.action).toEqual({ type: "wait", atMs: INTERVAL });
    // More requests while waiting add nothing.
    expect(refreshRequested(done.state, IPV4_UNICAST, 3000).action).toEqual({ type: "none" });
    const due = refreshDue(done.state, IPV4_UNICAST, INTERVAL);
    expect(due.action).toEqual({ type: "start" });
    // Nothing was asked during the second answer: nothing follows it.
    expect(refreshDone(due.state, IPV4_UNICAST, INTERVAL + 100).action).toEqual({ type: "none" });
  });

  it("a request inside the interval after an answer finished waits for the interval's end; one after it starts at once", () => {
    const s = refreshDone(refreshRequested(refreshState(INTERVAL), IPV4_UNICAST, 0).state, IPV4_UNICAST, 50).state;
    expect(refreshRequested(s, IPV4_UNICAST, 4000).action).toEqual({ type: "wait", atMs: INTERVAL });
    expect(refreshRequested(s, IPV4_UNICAST, INTERVAL).action).toEqual({ type: "start" });
  });

  it("an answer that outlasts the interval is followed at once by the queued one", () => {
    let s = refreshRequested(refreshState(INTERVAL), IPV4_UNICAST, 0).state;
    s = refreshRequested(s, IPV4_UNICAST, 10).state;
    expect(refreshDone(s, IPV4_UNICAST, 9000).action).toEqual({ type: "start" });
  });

  it("families do not wait for each other", () => {
    let s = refreshRequested(refreshState(INTERVAL), IPV4_UNICAST, 0).state;
    s = refreshRequested(s, IPV4_UNICAST, 1).state;
    expect(refreshRequested(s, IPV6_UNICAST, 2).action).toEqual({ type: "start" });
  });

  it("a stale due (nothing queued, or an answer running) does nothing", () => {
    const s = refreshRequested(refreshState(INTERVAL), IPV4_UNICAST, 0).state;
    expect(refreshDue(s, IPV4_UNICAST, INTERVAL).action).toEqual({ type: "none" });
    expect(refreshDue(refreshState(INTERVAL), IPV6_UNICAST, 0).action).toEqual({ type: "none" });
  });
});
