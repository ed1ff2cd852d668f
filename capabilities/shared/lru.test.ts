import { Lru } from "./lru";

describe("Lru", () => {
  it("forgets the least recently used key beyond its capacity, and says which", () => {
    const evicted: string[] = [];
    const lru = new Lru<string, number>(2, (k, v) => evicted.push(`${k}=${v}`));
    lru.set("a", 1);
    lru.set("b", 2);
    expect(lru.get("a")).toBe(1); // a is now younger than b
    lru.set("c", 3);
    expect(lru.get("b")).toBeUndefined();
    expect(lru.get("a")).toBe(1);
    expect(lru.get("c")).toBe(3);
    expect(lru.size).toBe(2);
    expect(evicted).toEqual(["b=2"]);
  });

  it("re-setting a key neither grows it nor evicts another", () => {
    const lru = new Lru<string, number>(2);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("b", 3);
    expect([lru.get("a"), lru.get("b"), lru.size]).toEqual([1, 3, 2]);
  });
});
