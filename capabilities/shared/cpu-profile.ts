/**
 * On-demand CPU profile of the controller process, for "why is it slow?" questions:
 * METALLB_CPU_PROFILE=/path/out.cpuprofile records for METALLB_CPU_PROFILE_SECONDS (60)
 * after start-up and writes a V8 profile that Chrome DevTools opens. Off unless set.
 * (Node refuses --cpu-prof in NODE_OPTIONS, and pepr starts the module process itself.)
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";

export function startCpuProfileFromEnv(log: (msg: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  const out = env.METALLB_CPU_PROFILE;
  if (!out) return;
  const seconds = Number(env.METALLB_CPU_PROFILE_SECONDS || 60);
  const session = new Session();
  session.connect();
  session.post("Profiler.enable", () =>
    session.post("Profiler.start", () => {
      log(`CPU profile: recording ${seconds} s into ${out}`);
      setTimeout(() => {
        session.post("Profiler.stop", (err, result) => {
          if (err) log(`CPU profile failed: ${err.message}`);
          else writeFileSync(out, JSON.stringify(result.profile));
          session.disconnect();
          if (!err) log(`CPU profile written to ${out}`);
        });
      }, seconds * 1000).unref();
    }),
  );
}
