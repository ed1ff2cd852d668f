import { planStatus, type StatusRef } from "./status-plan";

const ref = (name: string, node: string, standbys: string[] = [], interfaces: string[] = []): StatusRef => ({
  name,
  node,
  standbys,
  interfaces,
});
const want = (node: string, standbys: string[] = [], interfaces: string[] = []) => ({ node, standbys, interfaces });

describe("planStatus", () => {
  it("writes nothing when owner, standbys and interfaces hold still", () => {
    expect(planStatus(want("a", ["b", "c"]), [ref("l2-1", "a", ["b", "c"])])).toBeUndefined();
    expect(planStatus(undefined, [])).toBeUndefined();
    expect(planStatus({ reason: "no-live-node" }, [])).toBeUndefined();
  });

  it("creates for a Service that has none; deletes when nobody may announce", () => {
    expect(planStatus(want("a", ["b"]), [])).toEqual({ remove: [], create: want("a", ["b"]) });
    const have = [ref("l2-1", "a")];
    expect(planStatus({ reason: "no-live-node" }, have)).toEqual({ remove: have });
    expect(planStatus(undefined, have)).toEqual({ remove: have });
  });

  it("moves the owner in place, never delete + create", () => {
    const have = [ref("l2-1", "a", ["b", "c"])];
    expect(planStatus(want("b", ["c"]), have)).toEqual({
      remove: [],
      update: { ref: have[0], status: want("b", ["c"]), move: true },
    });
  });

  it("patches standbys or interfaces alone without a move", () => {
    const have = [ref("l2-1", "a", ["b"])];
    expect(planStatus(want("a", ["c", "b"]), have)).toEqual({
      remove: [],
      update: { ref: have[0], status: want("a", ["c", "b"]), move: false },
    });
    expect(planStatus(want("a", ["b"], ["eth0"]), have)?.update?.move).toBe(false);
  });

  it("duplicates: keeps the one on the owner, deletes the rest", () => {
    const have = [ref("l2-1", "x"), ref("l2-2", "a", ["b"])];
    expect(planStatus(want("a", ["b"]), have)).toEqual({ remove: [have[0]] });
    expect(planStatus(want("c"), have)).toEqual({
      remove: [have[1]],
      update: { ref: have[0], status: want("c"), move: true },
    });
  });
});
