/** The default backend: daily JSON-lines files under `$ALICE_HOME/events`. */
import path from 'node:path';
import type { EventPublisher, QueuedEvent } from './event-publisher.js';
import { appendLines, dayFileName } from './file-log.store.js';

/** Appends each batch to the file of each event's UTC emit day. */
export class FileSink implements EventPublisher {
  constructor(private readonly dir: string) {}

  async deliver(batch: readonly QueuedEvent[]): Promise<void> {
    // A batch spans two files only around midnight; keep the order within each file.
    const byFile = new Map<string, string[]>();
    for (const event of batch) {
      const file = path.join(this.dir, dayFileName(event.timeMs));
      const lines = byFile.get(file) ?? [];
      lines.push(event.line);
      byFile.set(file, lines);
    }
    for (const [file, lines] of byFile) await appendLines(file, lines);
  }

  idle(): Promise<void> {
    return Promise.resolve();
  }

  backlog(): number {
    return 0;
  }

  onWake(): void {
    // Nothing ever waits in a file backend.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
