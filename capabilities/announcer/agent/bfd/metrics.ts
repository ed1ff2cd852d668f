/**
 * BFD metrics by the names MetalLB's FRR mode exports (reference/metallb.md §6), label
 * `peer` = the peer's IP address: session_up, control_packet_input/output,
 * session_up_events, session_down_events. MetalLB's echo_packet_* (we run no echo) and
 * zebra_notifications (we have no zebra) have nothing to count and are not exported.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { agentRegistry } from "../metrics";
import type { BfdObserver } from "./sessions";

function make(registry: Registry) {
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ["peer"], registers: [registry] });
  return {
    sessionUp: new Gauge({
      name: "metallb_bfd_session_up",
      help: "BFD session state (1 is up, 0 is down)",
      labelNames: ["peer"],
      registers: [registry],
    }),
    input: counter("metallb_bfd_control_packet_input", "Number of received BFD control packets"),
    output: counter("metallb_bfd_control_packet_output", "Number of sent BFD control packets"),
    upEvents: counter("metallb_bfd_session_up_events", "Number of BFD session up events"),
    downEvents: counter("metallb_bfd_session_down_events", "Number of BFD session down events"),
  };
}

let metrics: ReturnType<typeof make> | undefined;
export function bfdMetrics(registry: Registry = agentRegistry): ReturnType<typeof make> {
  return (metrics ??= make(registry));
}

/** A BfdSessions observer that keeps the metrics current; `log` receives its log lines. */
export function bfdMetricsObserver(log: BfdObserver["log"], registry?: Registry): BfdObserver {
  const m = bfdMetrics(registry);
  return {
    onPacket(direction, peer) {
      (direction === "input" ? m.input : m.output).inc({ peer });
    },
    onStateChange(peer, from, to) {
      m.sessionUp.set({ peer }, to === "Up" ? 1 : 0);
      if (to === "Up") m.upEvents.inc({ peer });
      if (from === "Up") m.downEvents.inc({ peer });
    },
    onRemoved(peer) {
      for (const x of [m.sessionUp, m.input, m.output, m.upEvents, m.downEvents]) x.remove({ peer });
    },
    ...(log ? { log } : {}),
  };
}
