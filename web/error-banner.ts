import { byId } from './dom.js';

/**
 * The page's error line: one current message per source (a query, the time inputs, the trace box),
 * cleared when that source succeeds again, so a fixed mistake leaves no stale message behind.
 */
export class ErrorBanner {
  private readonly messages = new Map<string, string>();

  show(source: string, err: unknown): void {
    this.messages.set(source, err instanceof Error ? err.message : String(err));
    this.render();
  }

  clear(source: string): void {
    if (this.messages.delete(source)) this.render();
  }

  current(): string[] {
    return [...this.messages.values()];
  }

  private render(): void {
    const box = byId('error');
    box.hidden = this.messages.size === 0;
    box.textContent = this.current().join('\n');
  }
}
