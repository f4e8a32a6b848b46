import type { NetworkMonitor } from '../../src/client/index.js';

/** A network monitor a test switches by hand (what a browser's `online`/`offline` events tell the SDK). */
export class FakeNetwork implements NetworkMonitor {
  private readonly listeners = new Set<(online: boolean) => void>();

  constructor(private online = true) {}

  onLine(): boolean {
    return this.online;
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listeners subscribed now. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Switches the network and tells the listeners (only on a change, as browsers do). */
  set(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    for (const listener of [...this.listeners]) listener(online);
  }
}
