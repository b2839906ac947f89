// Small pieces every view uses: error notes, status badges, node chips, modal dialogs and the delete confirmation.
/** @jsxImportSource preact */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { ClientError } from "./nodes.ts";
import { shortUrl } from "./format.ts";

/** An error from the cluster, shown where it happened with what the node said; never swallowed. */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  // The client's messages name the status and code where the node gave them; a bare 404 says it here.
  const detail = error instanceof ClientError && error.kind === "not_found" ? ` (${error.status} ${error.code})` : "";
  return (
    <div class="error-note" role="alert">
      {title === undefined ? null : <strong>{title}: </strong>}
      {error instanceof Error ? error.message : String(error)}
      {detail}
    </div>
  );
}

export function Badge({ status, children }: { status: string; children?: ComponentChildren }) {
  return (
    <span class="badge" data-status={status}>
      {children ?? status}
    </span>
  );
}

/** A member with its colour; `label` replaces the host:port shown (the full URL stays in the tooltip). */
export function NodeChip({ url, color, label }: { url: string; color: string; label?: string }) {
  return (
    <span class="node-chip" title={url}>
      <span class="dot" style={{ background: color }} />
      {label ?? shortUrl(url)}
    </span>
  );
}

export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    box.current?.querySelector<HTMLElement>("textarea, input, .modal-actions button:last-child")?.focus();
  }, []);
  // Escape closes the innermost dialog only: the key stops here, before an outer dialog sees it.
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Escape") return;
    event.stopPropagation();
    onClose();
  };
  return (
    <div class="overlay" onKeyDown={onKeyDown} onClick={(event) => event.target === event.currentTarget && onClose()}>
      <div class={wide === true ? "modal wide" : "modal"} role="dialog" aria-modal="true" aria-label={title} ref={box}>
        <header class="modal-head">
          <h2>{title}</h2>
          <button class="btn btn-ghost" type="button" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

export function ConfirmDialog(props: { title: string; message: ComponentChildren; confirmLabel: string; busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Modal title={props.title} onClose={props.onCancel}>
      <div class="modal-body">{props.message}</div>
      <footer class="modal-actions">
        <button class="btn" type="button" onClick={props.onCancel} disabled={props.busy}>
          Cancel
        </button>
        <button class="btn btn-danger" type="button" onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? "Working…" : props.confirmLabel}
        </button>
      </footer>
    </Modal>
  );
}

/** A labelled figure for the overview's summary row. */
export function Stat({ label, value, detail, status, testId }: { label: string; value: ComponentChildren; detail?: ComponentChildren; status?: string; testId?: string }) {
  return (
    <div class="card stat" data-status={status} data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {detail === undefined ? null : <div class="stat-detail">{detail}</div>}
    </div>
  );
}
