// Small DOM helpers: typed element lookup, the page's status line and its error message box.
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

export function setStatus(text: string): void {
  $('status').textContent = text;
}

/** Shows a user-facing message (an error the user can act on); null hides it. */
export function showMessage(text: string | null): void {
  const box = $('message');
  box.hidden = text === null;
  box.textContent = text ?? '';
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
