/** Resident memory of a process, for the benchmarks' RSS columns. */
import { readFileSync } from "node:fs";

/** VmRSS (now) or VmHWM (peak) of `pid` in MB, from /proc; NaN if the field is missing. */
export function rssMB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}
