/**
 * NOTIFICATION error codes and their names: RFC 4271 §4.5 and §6, RFC 5492 §5
 * (Unsupported Capability), RFC 6608 (FSM error subcodes), RFC 4486 and
 * RFC 8538 (Cease subcodes), RFC 7313 (ROUTE-REFRESH Message Error).
 */

export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;

export const HeaderSubcode = { CONNECTION_NOT_SYNCHRONIZED: 1, BAD_MESSAGE_LENGTH: 2, BAD_MESSAGE_TYPE: 3 } as const;

export const OpenSubcode = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const FsmSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_IN_OPENSENT: 1,
  UNEXPECTED_IN_OPENCONFIRM: 2,
  UNEXPECTED_IN_ESTABLISHED: 3,
} as const;

export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  /** RFC 9384: the BFD session for the peer went down. */
  BFD_DOWN: 10,
} as const;

interface CodeNames {
  readonly name: string;
  readonly subcodes: Readonly<Record<number, string>>;
}

const NAMES: Readonly<Record<number, CodeNames>> = {
  1: {
    name: "Message Header Error",
    subcodes: { 1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type" },
  },
  2: {
    name: "OPEN Message Error",
    subcodes: {
      0: "Unspecific",
      1: "Unsupported Version Number",
      2: "Bad Peer AS",
      3: "Bad BGP Identifier",
      4: "Unsupported Optional Parameter",
      5: "Authentication Failure (deprecated)",
      6: "Unacceptable Hold Time",
      7: "Unsupported Capability",
      11: "Role Mismatch",
    },
  },
  3: {
    name: "UPDATE Message Error",
    subcodes: {
      1: "Malformed Attribute List",
      2: "Unrecognized Well-known Attribute",
      3: "Missing Well-known Attribute",
      4: "Attribute Flags Error",
      5: "Attribute Length Error",
      6: "Invalid ORIGIN Attribute",
      7: "AS Routing Loop (deprecated)",
      8: "Invalid NEXT_HOP Attribute",
      9: "Optional Attribute Error",
      10: "Invalid Network Field",
      11: "Malformed AS_PATH",
    },
  },
  4: { name: "Hold Timer Expired", subcodes: {} },
  5: {
    name: "Finite State Machine Error",
    subcodes: {
      0: "Unspecified Error",
      1: "Receive Unexpected Message in OpenSent State",
      2: "Receive Unexpected Message in OpenConfirm State",
      3: "Receive Unexpected Message in Established State",
    },
  },
  6: {
    name: "Cease",
    subcodes: {
      1: "Maximum Number of Prefixes Reached",
      2: "Administrative Shutdown",
      3: "Peer De-configured",
      4: "Administrative Reset",
      5: "Connection Rejected",
      6: "Other Configuration Change",
      7: "Connection Collision Resolution",
      8: "Out of Resources",
      9: "Hard Reset",
      10: "BFD Down",
    },
  },
  7: { name: "ROUTE-REFRESH Message Error", subcodes: { 1: "Invalid Message Length" } },
};

/** "OPEN Message Error / Bad Peer AS"; codes without subcodes give just the code's name. */
export function describeNotification(code: number, subcode: number): string {
  const entry = NAMES[code];
  if (!entry) return `Unknown error code ${code} / subcode ${subcode}`;
  const sub = entry.subcodes[subcode];
  if (sub) return `${entry.name} / ${sub}`;
  if (subcode === 0) return entry.name;
  return `${entry.name} / subcode ${subcode}`;
}
