import { resolveConfig, resolvePools } from "../config/resolve";
import { bgpAd, input, pool } from "../config/testing";
import type { ConfigInput } from "../config";
import { controllerConditions, restoredObjects, validityUpdates } from "./config-report";
import type { ConfigSnapshot } from "./config-store";

const snapshotOf = (raw: ConfigInput): ConfigSnapshot => ({
  version: 1,
  input: raw,
  resolution: resolveConfig(raw),
  pools: resolvePools(raw),
});

const NOW = "2026-12-02T10:00:00Z";

describe("what the controller reports about the configuration", () => {
  const raw = input({
    pools: [pool("web", ["198.51.100.0/28"]), pool("bad", ["not-a-cidr"])],
    bgpAdvertisements: [bgpAd("tagged", { communities: ["missing"] })],
  });

  it("ConfigurationState: pools and the other kinds apart, each line naming the object and what happens meanwhile", () => {
    const [pools, others] = controllerConditions(snapshotOf(raw));
    expect(pools.type).toBe("poolReconcilerValid");
    expect(pools.errors).toEqual([
      expect.stringMatching(
        /^IPAddressPool "bad": spec\.addresses\[0\]: .*hands out no new addresses until fixed; Services keep the addresses they hold\)$/,
      ),
    ]);
    expect(others.type).toBe("configReconcilerValid");
    expect(others.errors).toEqual([
      expect.stringMatching(
        /^BGPAdvertisement "tagged": .*"missing".*is disabled until fixed; everything else keeps working\)$/,
      ),
    ]);
  });

  it("each object gets a Valid condition: False with the reason when disabled, True otherwise", () => {
    const updates = validityUpdates(snapshotOf(raw), NOW);
    expect(updates.map((u) => [u.kind, u.name, u.condition.status, u.condition.reason])).toEqual([
      ["IPAddressPool", "web", "True", "InForce"],
      ["IPAddressPool", "bad", "False", "InvalidConfiguration"],
      ["BGPAdvertisement", "tagged", "False", "InvalidConfiguration"],
    ]);
    expect(updates[1].condition.message).toMatch(/not-a-cidr/);
  });

  it("nothing is written when the status already says it; the transition time moves only on a flip", () => {
    const first = validityUpdates(snapshotOf(raw), NOW);
    const withStatus = (list: unknown[] | undefined, kind: string) =>
      (list ?? []).map((o) => {
        const obj = o as { metadata: { name: string } };
        const u = first.find((x) => x.kind === kind && x.name === obj.metadata.name)!;
        return { ...obj, status: { conditions: [u.condition] } };
      });
    const written = {
      ...raw,
      pools: withStatus(raw.pools, "IPAddressPool"),
      bgpAdvertisements: withStatus(raw.bgpAdvertisements, "BGPAdvertisement"),
    } as ConfigInput;
    expect(validityUpdates(snapshotOf(written), "2026-12-02T11:00:00Z")).toEqual([]);

    // "bad" is fixed: it flips to True with a new transition time.
    const fixed = {
      ...written,
      pools: written.pools!.map((p) =>
        p.metadata!.name === "bad" ? { ...p, spec: { addresses: ["203.0.113.0/28"] } } : p,
      ),
    } as ConfigInput;
    const flip = validityUpdates(snapshotOf(fixed), "2026-12-02T12:00:00Z");
    expect(flip.map((u) => [u.name, u.condition.status, u.condition.lastTransitionTime])).toEqual([
      ["bad", "True", "2026-12-02T12:00:00Z"],
    ]);
  });

  it("the condition names the generation it judged, so a spec edit that stays valid is judged again", () => {
    const at = (gen: number) =>
      ({
        ...raw,
        pools: raw
          .pools!.filter((p) => p.metadata!.name === "web")
          .map((p) => ({ ...p, metadata: { ...p.metadata, generation: gen } })),
      }) as ConfigInput;
    const [first] = validityUpdates(snapshotOf(at(1)), NOW);
    expect(first.condition).toMatchObject({ status: "True", observedGeneration: 1 });
    const judged = {
      ...at(2),
      pools: at(2).pools!.map((p) => ({ ...p, status: { conditions: [first.condition] } })),
    } as ConfigInput;
    const again = validityUpdates(snapshotOf(judged), "2026-12-02T13:00:00Z");
    const web = again.filter((u) => u.name === "web");
    expect(
      web.map((u) => [u.condition.status, u.condition.observedGeneration, u.condition.lastTransitionTime]),
    ).toEqual([["True", 2, NOW]]);
  });

  it("an object disabled before and in force now is reported restored; one still bad or deleted is not", () => {
    const before = ["BGPAdvertisement/tagged", "IPAddressPool/bad", "Community/gone"];
    // In `raw`, "tagged" (missing Community) and "bad" are disabled; "gone" does not exist.
    expect(restoredObjects(before, snapshotOf(raw))).toEqual([]);
    const fixed = {
      ...raw,
      pools: raw.pools!.filter((p) => p.metadata!.name !== "bad"),
      bgpAdvertisements: raw.bgpAdvertisements!.map((a) => ({ ...a, spec: { ...a.spec, communities: [] } })),
    } as ConfigInput;
    expect(restoredObjects(before, snapshotOf(fixed))).toEqual([{ kind: "BGPAdvertisement", name: "tagged" }]);
  });
});
