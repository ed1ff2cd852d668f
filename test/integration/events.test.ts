/**
 * Event aggregation against the real API server, through the exported recorder
 * (`recordEvent`, as every controller calls it) on the module's shared client, pointed at
 * the test cluster by KUBECONFIG. What an operator sees is read back with kubectl.
 *
 * The involved objects need not exist (the API server does not check), so no Service is
 * created: the running module then has nothing of its own to say about them.
 */
import { randomUUID } from "node:crypto";
import { COMBINED_PREFIX } from "../../capabilities/shared/kube/event-aggregator";
import { eventRecorder, recordEvent, type EventTarget } from "../../capabilities/shared/kube/events";
import { kubeHttp } from "../../capabilities/shared/kube/http";
import { kubectl, kubectlOk } from "../harness/kubectl";

const ns = "calm-events";

interface KubeEvent {
  metadata: { name: string };
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  involvedObject: { name: string; uid?: string };
}

const target = (name: string): EventTarget => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns, uid: randomUUID() },
});

/** What `kubectl get events --field-selector involvedObject.name=<name>` shows. */
async function eventsFor(name: string): Promise<KubeEvent[]> {
  const out = await kubectlOk([
    "get",
    "events",
    "-n",
    ns,
    "--field-selector",
    `involvedObject.name=${name}`,
    "-o",
    "json",
  ]);
  return (JSON.parse(out) as { items: KubeEvent[] }).items;
}

// No controller-manager runs here to finish a namespace deletion: the namespace stays
// (empty) and only its Events are removed, before (a kept cluster) and after.
beforeAll(async () => {
  await kubectl(["create", "namespace", ns]);
  await kubectlOk(["delete", "events", "-n", ns, "--all"]);
});

afterAll(async () => {
  await kubectl(["delete", "events", "-n", ns, "--all"]);
  kubeHttp().close();
});

describe("Events on the real API server", () => {
  const web = target("calm-web");

  it("the same Event 50 times is ONE Event with count 50", async () => {
    for (let i = 0; i < 50; i++)
      await recordEvent(web, "Warning", "AllocationFailed", "no available IPs", "metallb-controller");
    await eventRecorder().idle();
    const events = await eventsFor("calm-web");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: "AllocationFailed", message: "no available IPs", count: 50 });
    expect(Date.parse(events[0].lastTimestamp)).toBeGreaterThanOrEqual(Date.parse(events[0].firstTimestamp));
    // As an operator reads it: `-o wide` adds FIRST SEEN and COUNT.
    const [header, row] = (
      await kubectlOk(["get", "events", "-n", ns, "--field-selector", "involvedObject.name=calm-web", "-o", "wide"])
    ).split("\n");
    expect(row.slice(header.indexOf("COUNT")).split(/\s+/)[0]).toBe("50");
  });

  it("an Event deleted (or expired) meanwhile is created again with the count so far", async () => {
    await kubectlOk(["delete", "events", "-n", ns, "--field-selector", "involvedObject.name=calm-web"]);
    await recordEvent(web, "Warning", "AllocationFailed", "no available IPs", "metallb-controller");
    await eventRecorder().idle();
    const events = await eventsFor("calm-web");
    expect(events).toHaveLength(1);
    expect(events[0].count).toBe(51);
  });

  it("rate-limited: 40 different reasons for one object in a burst give 25 Events, the rest dropped", async () => {
    const flood = target("calm-flood");
    const before = eventRecorder().aggregator.rateLimited;
    for (let i = 0; i < 40; i++)
      await recordEvent(flood, "Normal", `Reason${i}`, "something happened", "metallb-controller");
    await eventRecorder().idle();
    expect(await eventsFor("calm-flood")).toHaveLength(25);
    expect(eventRecorder().aggregator.rateLimited - before).toBe(15);
    // Another object has its own bucket.
    await recordEvent(target("calm-other"), "Normal", "Reason0", "something happened", "metallb-controller");
    await eventRecorder().idle();
    expect(await eventsFor("calm-other")).toHaveLength(1);
  });

  it("more than 10 messages for one reason: 10 Events and one combined Event with the newest message", async () => {
    const flap = target("calm-flap");
    for (let i = 0; i < 15; i++)
      await recordEvent(flap, "Warning", "AllocationFailed", `pool p${i} is full`, "metallb-controller");
    await eventRecorder().idle();
    const events = await eventsFor("calm-flap");
    expect(events).toHaveLength(11);
    const combined = events.filter((e) => e.message.startsWith(COMBINED_PREFIX));
    expect(combined).toHaveLength(1);
    expect(combined[0]).toMatchObject({ message: `${COMBINED_PREFIX}pool p14 is full`, count: 5 });
  });
});
