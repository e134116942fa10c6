// Lifecycle Workflows in the Graph fake, the record half: the resume calls received and the scripted
// answers (control `lifecycle`). The route that answers the calls is lifecycle-route.ts; this file
// stays free of the simulator state so state.ts can hold a LifecycleBook without a file circle.
import { z } from 'zod';

export interface LifecycleCall {
  workflowId: string;
  taskId: string;
  taskProcessingResultId: string;
  operationStatus: 'completed' | 'failed';
  source: string;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** The status answered (204, or a scripted one). */
  status: number;
}

/** Control `lifecycle`: statuses answered to the next resume calls (then 204), or clear the record. */
export const lifecycleControlSchema = z.strictObject({
  script: z.array(z.number().int().min(200).max(599)).max(1000).optional(),
  clear: z.literal(true).optional(),
});
export type LifecycleControl = z.infer<typeof lifecycleControlSchema>;

export class LifecycleBook {
  calls: LifecycleCall[] = [];
  private script: number[] = [];

  apply(c: LifecycleControl): void {
    if (c.clear) this.calls = [];
    if (c.script) this.script = [...c.script];
  }

  nextStatus(): number {
    return this.script.shift() ?? 204;
  }

  reset(): void {
    this.calls = [];
    this.script = [];
  }
}
