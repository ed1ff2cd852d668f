/**
 * Classic BPF opcodes (linux/filter.h) for the kernel socket filters the agent attaches
 * (ARP/NDP, router advertisements, BFD's TTL check), so that each filter spells the same
 * instruction the same way.
 */
/** BPF_LD | BPF_W | BPF_ABS: load 4 bytes. */
export const LD_W_ABS = 0x20;
/** BPF_LD | BPF_H | BPF_ABS: load 2 bytes. */
export const LD_H_ABS = 0x28;
/** BPF_LD | BPF_B | BPF_ABS: load 1 byte. */
export const LD_B_ABS = 0x30;
/** BPF_JMP | BPF_JEQ | BPF_K */
export const JEQ_K = 0x15;
/** BPF_JMP | BPF_JGE | BPF_K */
export const JGE_K = 0x35;
/** BPF_RET | BPF_K */
export const RET_K = 0x06;
/** What a filter returns to keep a packet: this many bytes of it (all the agent reads). */
export const ACCEPT = 0x40000;
