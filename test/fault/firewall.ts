// The iptables side of the nemesis: one chain of our own, jumped to from OUTPUT, holding DROP rules that
// match a node's user and another node's address; flushing the chain heals every cut at once.
//
// What one rule cuts: `-m owner --uid-owner <A's user> -d <B's address> -j DROP` drops every packet A's
// process sends to B's address, so A cannot open a connection to B. Replies travel to the address a
// connection came from; on loopback Linux picks 127.0.0.1 as the source for every 127.0.0.x destination
// (`ip route get 127.0.0.12` says `src 127.0.0.1`), so A's replies on connections B opened go to 127.0.0.1
// and pass: one rule is a one-way cut here. (Were sources the nodes' own addresses, the same rule would
// also drop A's replies to B and cut TCP both ways.) A partition therefore always adds both directions.
// The test process runs as root, which no rule names, so it reaches every node throughout.
import { run, type NodeIdentity } from "./isolation.ts";

export const CHAIN = "LIMEDB_FAULT";
/** Bound on removing repeated jumps from OUTPUT (an earlier run that died may have left some). */
const JUMPS_MAX = 10;

function iptables(...args: string[]): { ok: boolean; out: string } {
  return run(["iptables", "-w", "5", ...args]);
}

function must(...args: string[]): void {
  const result = iptables(...args);
  if (!result.ok) throw new Error(`iptables ${args.join(" ")} failed: ${result.out}`);
}

/** Creates (or empties) the chain and puts one jump to it first in OUTPUT. */
export function installChain(): void {
  if (!iptables("-N", CHAIN).ok) must("-F", CHAIN);
  if (!iptables("-C", "OUTPUT", "-j", CHAIN).ok) must("-I", "OUTPUT", "1", "-j", CHAIN);
}

/** Drops what `from`'s process sends to `to`'s address. */
export function cutOneWay(from: NodeIdentity, to: NodeIdentity): void {
  must("-A", CHAIN, "-m", "owner", "--uid-owner", String(from.uid), "-d", `${to.address}/32`, "-j", "DROP");
}

/** Cuts every node of one side off from every node of the other, in both directions. */
export function cutBetween(sideA: readonly NodeIdentity[], sideB: readonly NodeIdentity[]): void {
  for (const a of sideA) {
    for (const b of sideB) {
      cutOneWay(a, b);
      cutOneWay(b, a);
    }
  }
}

/** Removes every cut; the chain and its jump stay for the next fault. */
export function healAll(): void {
  must("-F", CHAIN);
}

/** The rules in force, one per line, for reports and checks. */
export function listRules(): string[] {
  const result = iptables("-S", CHAIN);
  return result.ok ? result.out.split("\n").filter((line) => line.startsWith("-A")) : [];
}

/** Flushes and deletes the chain and every jump to it; safe to call twice and from an interrupt handler. */
export function removeChain(): void {
  iptables("-F", CHAIN);
  for (let i = 0; i < JUMPS_MAX && iptables("-D", "OUTPUT", "-j", CHAIN).ok; i++);
  iptables("-X", CHAIN);
}
