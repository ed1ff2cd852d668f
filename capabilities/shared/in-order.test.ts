import { inOrderByKey } from "./in-order";

/** A send whose calls finish when the test says, recording start and end order. */
function controlled() {
  const log: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const send = (key: string, what: string): Promise<void> => {
    log.push(`start ${key}:${what}`);
    return new Promise<void>((resolve, reject) => pending.set(`${key}:${what}`, { resolve, reject })).then(() => {
      log.push(`end ${key}:${what}`);
    });
  };
  const settle = async (id: string, error?: Error): Promise<void> => {
    for (let i = 0; i < 10 && !pending.has(id); i++) await Promise.resolve();
    const p = pending.get(id);
    if (!p) throw new Error(`${id} was never started`);
    if (error) p.reject(error);
    else p.resolve();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { log, send, settle };
}

describe("inOrderByKey", () => {
  it("starts a key's next call only after the previous one settled, even if the later would finish first", async () => {
    const c = controlled();
    const write = inOrderByKey(c.send);
    const first = write("s", "Established");
    const second = write("s", "Idle");
    await c.settle("s:Established");
    await c.settle("s:Idle");
    await Promise.all([first, second]);
    expect(c.log).toEqual(["start s:Established", "end s:Established", "start s:Idle", "end s:Idle"]);
  });

  it("runs different keys concurrently", async () => {
    const c = controlled();
    const write = inOrderByKey(c.send);
    const a = write("a", "1");
    const b = write("b", "1");
    await c.settle("b:1");
    await c.settle("a:1");
    await Promise.all([a, b]);
    expect(c.log).toEqual(["start a:1", "start b:1", "end b:1", "end a:1"]);
  });

  it("a failed call rejects for its caller and does not stop the next one", async () => {
    const c = controlled();
    const write = inOrderByKey(c.send);
    const failing = write("s", "1");
    const next = write("s", "2");
    const failed = expect(failing).rejects.toThrow("HTTP 500");
    await c.settle("s:1", new Error("HTTP 500"));
    await failed;
    await c.settle("s:2");
    await next;
    expect(c.log).toEqual(["start s:1", "start s:2", "end s:2"]);
  });
});
