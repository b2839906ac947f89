// One key opened from the explorer: its value as the cluster reads it, where its replicas are, edit and delete.
/** @jsxImportSource preact */
import { useEffect, useState } from "preact/hooks";
import { clientFor, type NodeRef } from "./nodes.ts";
import type { Replica } from "./api-types.ts";
import { colorOf, formatBytes, shortUrl } from "./format.ts";
import type { KeyRow } from "./key-listing.ts";
import { ConfirmDialog, ErrorNote, Modal, NodeChip } from "./ui.tsx";

export interface KeyPanelProps {
  readonly keyName: string;
  readonly row: KeyRow | undefined;
  /** The node the key is read, written and deleted through. */
  readonly via: NodeRef;
  readonly memberUrls: readonly string[];
  readonly onClose: () => void;
  readonly onChanged: () => void;
  readonly onDeleted: (existed: boolean) => void;
}

type Loading<T> = { state: "loading" } | { state: "ok"; value: T } | { state: "error"; error: unknown };

export function KeyPanel({ keyName, row, via, memberUrls, onClose, onChanged, onDeleted }: KeyPanelProps) {
  const client = clientFor(via);
  const [value, setValue] = useState<Loading<string>>({ state: "loading" });
  const [draft, setDraft] = useState("");
  const [replicas, setReplicas] = useState<Loading<readonly Replica[]>>({ state: "loading" });
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);

  const loadReplicas = () =>
    client.replicas(keyName).then(
      (answer) => setReplicas({ state: "ok", value: answer.replicas }),
      (error: unknown) => setReplicas({ state: "error", error }),
    );

  useEffect(() => {
    client.get(keyName).then(
      (answer) => {
        if (answer === undefined) {
          setValue({ state: "error", error: new Error(`${keyName} does not exist (any more): deleted or expired`) });
          return;
        }
        setValue({ state: "ok", value: answer.value });
        setDraft(answer.value);
      },
      (error: unknown) => setValue({ state: "error", error }),
    );
    void loadReplicas();
  }, [keyName, via.url]);

  const save = async () => {
    setSaving(true);
    setSaved(undefined);
    setActionError(undefined);
    try {
      await client.set(keyName, draft);
      setValue({ state: "ok", value: draft });
      setSaved(`Saved through ${shortUrl(via.url)}: OK`);
      onChanged();
      void loadReplicas();
    } catch (error) {
      setActionError(error);
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    setDeleting(true);
    setActionError(undefined);
    try {
      const existed = await client.del(keyName);
      setConfirming(false);
      onDeleted(existed);
    } catch (error) {
      setConfirming(false);
      setActionError(error);
    } finally {
      setDeleting(false);
    }
  };

  const unchanged = value.state === "ok" && value.value === draft;
  return (
    <Modal title={keyName} onClose={onClose} wide>
      <div class="modal-body key-panel">
        <dl class="facts">
          <dt>Size</dt>
          <dd>{row === undefined ? "—" : formatBytes(row.size)}</dd>
          <dt>Written</dt>
          <dd>
            {row?.written === undefined ? (
              "—"
            ) : (
              <>
                {new Date(row.written.wallMs).toISOString()} by <NodeChip url={row.written.node} color={colorOf(row.written.node, memberUrls)} />
              </>
            )}
          </dd>
        </dl>
        <h3>Replicas</h3>
        {replicas.state === "loading" ? <p class="muted">Asking the replicas…</p> : null}
        {replicas.state === "error" ? <ErrorNote title="Replicas" error={replicas.error} /> : null}
        {replicas.state === "ok" ? (
          <ul class="replicas">
            {replicas.value.map((r) => (
              <li data-replica={r.nodeUrl}>
                <NodeChip url={r.nodeUrl} color={colorOf(r.nodeUrl, memberUrls)} />
                <span class="muted small">
                  {r.error !== undefined ? r.error : !r.holds ? "no copy" : r.tombstone ? "deleted (tombstone)" : r.version === null ? "holds it" : `version ${new Date(r.version.wallMs).toISOString()} #${r.version.counter}`}
                </span>
              </li>
            ))}
          </ul>
        ) : null}
        <h3>Value</h3>
        {value.state === "error" ? <ErrorNote title="Read" error={value.error} /> : null}
        <textarea
          class="mono value-editor"
          aria-label="Value"
          rows={8}
          value={draft}
          disabled={value.state === "loading"}
          onInput={(event) => {
            setDraft(event.currentTarget.value);
            setSaved(undefined);
          }}
        />
        {saved === undefined ? null : (
          <p class="notice" role="status">
            {saved}
          </p>
        )}
        {actionError === undefined ? null : <ErrorNote error={actionError} />}
      </div>
      <footer class="modal-actions">
        <button class="btn btn-danger" type="button" onClick={() => setConfirming(true)} disabled={deleting}>
          Delete…
        </button>
        <span class="grow" />
        <button class="btn" type="button" onClick={onClose}>
          Close
        </button>
        <button class="btn btn-primary" type="button" onClick={() => void save()} disabled={saving || unchanged || value.state === "loading"}>
          {saving ? "Saving…" : "Save"}
        </button>
      </footer>
      {confirming ? (
        <ConfirmDialog
          title="Delete this key?"
          message={
            <p>
              <strong class="mono">{keyName}</strong> will be deleted on every replica, through {shortUrl(via.url)}. This cannot be undone.
            </p>
          }
          confirmLabel="Delete"
          busy={deleting}
          onConfirm={() => void remove()}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </Modal>
  );
}
