import type { Condition, MetallbObject } from "./common";

export type ConfigurationResult = "Valid" | "Invalid" | "Unknown";

export interface ConfigurationStateStatus {
  result?: ConfigurationResult;
  /** Messages of failing conditions joined by newlines; empty when Valid. */
  errorSummary?: string;
  /** A list-map keyed by type. */
  conditions?: Condition[];
}

export type ConfigurationStateSpec = Record<string, never>;

export type ConfigurationState = MetallbObject<ConfigurationStateSpec, ConfigurationStateStatus>;
