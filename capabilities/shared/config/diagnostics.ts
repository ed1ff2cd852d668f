/**
 * Collects errors and warnings while parsing. Every message starts with the object
 * (`Kind "name": `); the caller writes the rest, which starts with the field.
 */
import type { ConfigError, ConfigKind, ObjectRef } from "./types";

export const q = (value: unknown): string => JSON.stringify(String(value));

/** Numbers as they are (MetalLB's %d), anything else quoted. */
export const show = (value: unknown): string => (typeof value === "number" ? String(value) : q(value));

export interface IssueOptions {
  related?: ObjectRef[];
  transient?: boolean;
}

export class Diagnostics {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];

  error(kind: ConfigKind, name: string, field: string, text: string, opts: IssueOptions = {}): void {
    this.errors.push(issue(kind, name, field, text, opts));
  }

  warn(kind: ConfigKind, name: string, field: string, text: string, opts: IssueOptions = {}): void {
    this.warnings.push(issue(kind, name, field, text, opts));
  }

  /** Binds kind and name, for the parser of one object. */
  for(kind: ConfigKind, name: string): ObjectDiagnostics {
    return {
      error: (field, text, opts) => this.error(kind, name, field, text, opts),
      warn: (field, text, opts) => this.warn(kind, name, field, text, opts),
    };
  }
}

export interface ObjectDiagnostics {
  error(field: string, text: string, opts?: IssueOptions): void;
  warn(field: string, text: string, opts?: IssueOptions): void;
}

function issue(kind: ConfigKind, name: string, field: string, text: string, opts: IssueOptions): ConfigError {
  const e: ConfigError = { kind, name, field, message: `${kind} ${q(name)}: ${text}` };
  if (opts.related?.length) e.related = opts.related;
  if (opts.transient) e.transient = true;
  return e;
}

/** Integer check shared by the numeric fields. */
export const isIntIn = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
