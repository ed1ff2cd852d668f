import { modelToGroupVersionKind } from "kubernetes-fluent-client";
import { MODELS } from "./register";
import { ALL_KINDS } from "./types";

// Separate from crds.test.ts because loading kubernetes-fluent-client under Jest is slow.
describe("KFC registration", () => {
  it.each(ALL_KINDS.map((k) => [k.kind, k] as const))(
    "%s is registered at its storage version with its plural",
    (kind, info) => {
      expect(MODELS[kind as keyof typeof MODELS].name).toBe(kind);
      expect(modelToGroupVersionKind(kind)).toEqual({
        group: "metallb.io",
        version: info.version,
        kind,
        plural: info.plural,
      });
    },
  );
});
