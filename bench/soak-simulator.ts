// The soak's simulator, in its own process so that its TLS handshakes and certificate work do
// not count in the daemon's event-loop delay, memory or file descriptors. Driven over IPC.
import { startSimulator, type Faults, type StageBehaviour } from "../src/simulator/index.js";

export type SimulatorMessage =
  { type: "set"; faults: Faults; stages: Record<string, StageBehaviour> } | { type: "close" };

const sim = await startSimulator({ stages: { prod: "ok", v2: "ok" } });
process.on("message", (m: SimulatorMessage) => {
  if (m.type === "set") {
    sim.setFaults(m.faults);
    sim.setStages(m.stages);
  } else {
    void sim.close().then(() => process.disconnect());
  }
});
const { endpoint, apiId, port, dns, caFile } = sim;
process.send?.({ type: "ready", endpoint, apiId, port, dns, caFile });
