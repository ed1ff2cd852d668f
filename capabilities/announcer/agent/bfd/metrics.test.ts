import { Registry } from "prom-client";
import { bfdMetricsObserver } from "./metrics";

describe("BFD metrics (MetalLB's names)", () => {
  it("counts packets and transitions per peer, and forgets a removed peer", async () => {
    const registry = new Registry();
    const o = bfdMetricsObserver(undefined, registry);
    o.onStateChange!("192.0.2.1", "Down", "Down");
    o.onPacket!("input", "192.0.2.1");
    o.onPacket!("output", "192.0.2.1");
    o.onPacket!("output", "192.0.2.1");
    o.onStateChange!("192.0.2.1", "Init", "Up");
    o.onStateChange!("192.0.2.1", "Up", "Down");
    const text = await registry.metrics();
    expect(text).toContain('metallb_bfd_session_up{peer="192.0.2.1"} 0');
    expect(text).toContain('metallb_bfd_control_packet_input{peer="192.0.2.1"} 1');
    expect(text).toContain('metallb_bfd_control_packet_output{peer="192.0.2.1"} 2');
    expect(text).toContain('metallb_bfd_session_up_events{peer="192.0.2.1"} 1');
    expect(text).toContain('metallb_bfd_session_down_events{peer="192.0.2.1"} 1');
    o.onRemoved!("192.0.2.1");
    expect(await registry.metrics()).not.toContain("192.0.2.1");
  });
});
