// The member vocabulary of gossip: digests that travel, entries that are applied, and local state.

export type MemberState = "active" | "stale" | "dead";

/** What a SYN carries per member: enough to tell who has the newer news. */
export interface Digest {
  readonly nodeUrl: string;
  /** Set at process start and raised on every restart, so a restarted node supersedes its old self. */
  readonly generation: number;
  /** Raised by the member itself every gossip interval while it lives. */
  readonly heartbeat: number;
  /**
   * Set (and only then present) once the member was removed, by an operator or the automatic removal of a
   * member long dead: it no longer owns ranges. A removal outranks every heartbeat of the generation it
   * names, so the member cannot outbeat it; a restart (a later generation) joins again as new.
   */
  readonly removed?: boolean;
}

/** What ACK and ACK2 carry: the digest plus what others need to know of the member. */
export interface Entry extends Digest {
  /** Set while the member hands its data off before leaving the cluster on purpose. */
  readonly leaving: boolean;
}

export interface Member extends Entry {
  readonly state: MemberState;
  /** This node's monotonic time (never the wall clock) at which it last saw the member's news advance. */
  readonly advancedAtMs: number;
}

/**
 * True when `a` carries newer news of the member than `b`: a later generation; in one generation a removal
 * before any heartbeat (the member cannot outbeat its own removal); then a later heartbeat.
 */
export function isNewer(a: Digest, b: Digest): boolean {
  if (a.generation !== b.generation) return a.generation > b.generation;
  const removedA = a.removed === true;
  const removedB = b.removed === true;
  if (removedA !== removedB) return removedA;
  return a.heartbeat > b.heartbeat;
}

export function toDigest(member: Digest): Digest {
  const digest = { nodeUrl: member.nodeUrl, generation: member.generation, heartbeat: member.heartbeat };
  // Only a removal travels in a digest, so the digests of a cluster without removals look as they always did.
  return member.removed === true ? { ...digest, removed: true } : digest;
}

export function toEntry(member: Entry): Entry {
  const entry = { nodeUrl: member.nodeUrl, generation: member.generation, heartbeat: member.heartbeat, leaving: member.leaving };
  return member.removed === true ? { ...entry, removed: true } : entry;
}
