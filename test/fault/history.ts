// What a fault run records for the checker: every client operation with its invocation and completion times
// (one monotonic clock, this test process's performance.now()), the windows in which faults were active, and
// the replicas of every key as read after healing. Plain data, no I/O.

/** The register workload overwrites a few keys with unique values; the set workload writes each key once. */
export type Workload = "register" | "set";

/**
 * ok: the node answered 200 (or 404 "not found" for a read). maybe: 503, 504, another 5xx, a cut connection
 * or the client's deadline: the write may or may not have been applied, the read told nothing. fail: an
 * answer that says the request was refused as asked (a 4xx other than a read's 404): nothing was applied.
 */
export type Outcome = "ok" | "maybe" | "fail";

/** During the run clients read and write; after healing every key is read once through every node. */
export type Phase = "run" | "final";

interface OperationBase {
  readonly workload: Workload;
  readonly phase: Phase;
  /** The client that issued it; each client has one operation in flight at a time. */
  readonly client: number;
  readonly key: string;
  /** The URL of the node the request went to. */
  readonly node: string;
  readonly invokedMs: number;
  readonly completedMs: number;
  readonly outcome: Outcome;
  /** The status code, or the error's name for a request that got no answer: for diagnosis only. */
  readonly answer: string;
}

export interface WriteOperation extends OperationBase {
  readonly kind: "write";
  /** Unique per key in a run, so a read names the one write it saw. */
  readonly value: string;
}

export interface ReadOperation extends OperationBase {
  readonly kind: "read";
  /** For an ok read: the value returned, or null for "not found". Undefined otherwise. */
  readonly seen?: string | null;
}

export type Operation = WriteOperation | ReadOperation;

/** A set of nodes that a fault treats alike (one side of a partition, the paused node, the rest). */
export interface NodeGroup {
  readonly name: string;
  readonly nodes: readonly string[];
  /** Fewer than a majority of the cluster's nodes, cut off from the others: it should acknowledge no write. */
  readonly minority: boolean;
}

/** A stretch of the test clock in which one fault was in force; every node is in exactly one group. */
export interface FaultWindow {
  readonly fault: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly groups: readonly NodeGroup[];
}

/** One replica's record of a key, as GET /api/v1/replicas/:key lists it. */
export interface ReplicaRecord {
  readonly node: string;
  readonly holds: boolean;
  /** The record's version as JSON text (equal texts, equal versions), or null when it holds none. */
  readonly version: string | null;
  readonly tombstone: boolean;
  /** Set when the replica did not answer: its record is unknown. */
  readonly error?: string;
}

export interface ReplicaSnapshot {
  readonly key: string;
  readonly workload: Workload;
  /** The node whose ring named these replicas; empty with `error` set when the listing failed. */
  readonly listedBy: string;
  readonly replicas: readonly ReplicaRecord[];
  readonly error?: string;
}

export interface History {
  readonly operations: readonly Operation[];
  readonly windows: readonly FaultWindow[];
  /** Every written key's replicas after the convergence wait. */
  readonly replicas: readonly ReplicaSnapshot[];
}
