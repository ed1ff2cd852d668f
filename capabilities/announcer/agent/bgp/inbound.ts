/**
 * Turns framed bytes from the peer into FSM events: decode (structure), then
 * validate (RFC 7606 for UPDATE). OPEN semantics are checked by the FSM,
 * which knows the session's configuration. Never throws.
 */
import { decodeMessage } from "./decode";
import type { CodecOptions } from "./encode";
import type { FsmEvent } from "./fsm";
import { ErrorCode } from "./notification";
import type { Frame } from "./reader";
import { validateUpdate, type UpdateContext } from "./validate";

export interface InboundContext extends CodecOptions, UpdateContext {}

export function frameToEvent(frame: Frame, ctx: InboundContext): FsmEvent {
  if (frame.kind === "error") return { type: "BGPHeaderErr", error: frame.error };
  const decoded = decodeMessage(frame.bytes, ctx);
  if (!decoded.ok) {
    const error = decoded.error;
    switch (error.code) {
      case ErrorCode.OPEN_MESSAGE:
        return { type: "BGPOpenMsgErr", error };
      case ErrorCode.UPDATE_MESSAGE:
        return { type: "UpdateMsgErr", verdict: { outcome: "session-reset", error } };
      default:
        return { type: "BGPHeaderErr", error };
    }
  }
  const m = decoded.message;
  switch (m.type) {
    case "open":
      return { type: "BGPOpen", message: m };
    case "keepalive":
      return { type: "KeepAliveMsg" };
    case "notification":
      return { type: "NotifMsg", message: m };
    case "route-refresh":
      return { type: "RouteRefreshMsg", message: m };
    case "update": {
      const verdict = validateUpdate(m, ctx);
      return verdict.outcome === "ok"
        ? { type: "UpdateMsg", message: verdict.update }
        : { type: "UpdateMsgErr", verdict };
    }
  }
}
