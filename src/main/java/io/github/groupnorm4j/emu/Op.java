package io.github.groupnorm4j.emu;

/** Decoded opcodes. Integer ops compute on 64-bit values and keep the low {@code width} bits where it matters. */
final class Op {
    private Op() {
    }

    // integer
    static final int MOV = 1;
    static final int ADD = 2;
    static final int SUB = 3;
    static final int MUL_LO = 4;
    static final int MUL_HI = 5;
    static final int MUL_WIDE = 6;
    static final int MAD_LO = 7;
    static final int MAD_HI = 8;
    static final int MAD_WIDE = 9;
    static final int DIV = 10;
    static final int REM = 11;
    static final int ABS = 12;
    static final int NEG = 13;
    static final int MIN = 14;
    static final int MAX = 15;
    static final int AND = 16;
    static final int OR = 17;
    static final int XOR = 18;
    static final int NOT = 19;
    static final int CNOT = 20;
    static final int SHL = 21;
    static final int SHR = 22;
    static final int POPC = 23;
    static final int CLZ = 24;
    static final int BREV = 25;
    static final int BFE = 26;
    static final int BFI = 27;
    static final int PRMT = 28;
    static final int SELP = 29;
    static final int SETP_INT = 30;
    static final int NOT_PRED = 31;
    static final int MOV_PACK = 32;
    static final int MOV_UNPACK = 33;
    static final int SHF = 34;
    static final int LOP3 = 35;
    static final int MUL24_LO = 36;
    static final int MAD24_LO = 37;
    static final int SAD = 38;
    // f32
    static final int ADD_F32 = 40;
    static final int SUB_F32 = 41;
    static final int MUL_F32 = 42;
    static final int FMA_F32 = 43;
    static final int DIV_F32 = 44;
    static final int DIV_APPROX_F32 = 45;
    static final int RCP_F32 = 46;
    static final int SQRT_F32 = 47;
    static final int RSQRT_F32 = 48;
    static final int EX2_F32 = 49;
    static final int LG2_F32 = 50;
    static final int SIN_F32 = 51;
    static final int COS_F32 = 52;
    static final int MIN_F32 = 53;
    static final int MAX_F32 = 54;
    static final int NEG_F32 = 55;
    static final int ABS_F32 = 56;
    static final int SETP_F32 = 57;
    static final int TANH_F32 = 58;
    static final int TESTP_F32 = 59;
    static final int COPYSIGN_F32 = 60;
    /** add/sub/mul/fma with .rz/.rm/.rp: computed exactly, then rounded (rare, so off the fast paths). */
    static final int DIRECTED = 61;
    static final int BFIND = 62;
    // f64
    static final int ADD_F64 = 70;
    static final int SUB_F64 = 71;
    static final int MUL_F64 = 72;
    static final int FMA_F64 = 73;
    static final int DIV_F64 = 74;
    static final int RCP_F64 = 75;
    static final int SQRT_F64 = 76;
    static final int RSQRT_F64 = 77;
    static final int MIN_F64 = 78;
    static final int MAX_F64 = 79;
    static final int NEG_F64 = 80;
    static final int ABS_F64 = 81;
    static final int SETP_F64 = 82;
    static final int TESTP_F64 = 83;
    // conversions and addresses
    static final int CVT = 90;
    static final int CVTA_TO_GENERIC = 91;
    static final int CVTA_FROM_GENERIC = 92;
    /** cvt.f32.f16 / cvt.f32.bf16: exact widening of the low 16 bits; {@code mode} 1 for bf16. */
    static final int CVT_F32_HALF = 93;
    /** cvt.rn.f16.f32 / cvt.rn.bf16.f32: round to nearest even; {@code mode} 1 for bf16. */
    static final int CVT_HALF_F32 = 94;
    /** cvt.rn.f16x2.f32 / cvt.rn.bf16x2.f32 d, a, b: a rounded into the upper half of d, b into the lower. */
    static final int CVT_HALF2_F32 = 95;
    // memory
    static final int LD = 100;
    static final int ST = 101;
    static final int ATOM = 102;
    static final int RED = 103;
    // control and synchronisation
    static final int BRA = 110;
    static final int EXIT = 111;
    static final int BAR_SYNC = 112;
    static final int BAR_ARRIVE = 113;
    static final int BAR_RED = 114;
    static final int BAR_WARP_SYNC = 115;
    static final int SHFL = 116;
    static final int VOTE = 117;
    static final int NOP = 118;
    static final int MATCH_ANY = 119;
    static final int ACTIVEMASK = 120;
    static final int MATCH_ALL = 121;
    static final int CALL = 123;
    static final int RET = 124;
    static final int BAR_CLUSTER_ARRIVE = 125;
    static final int BAR_CLUSTER_WAIT = 126;
    static final int MAPA = 127;
    /** membar / fence (not .proxy): orders memory; {@link Insn#sem} gives its scope. */
    static final int FENCE = 128;
    static final int REDUX = 122;

    /** Ops at which a thread stops and waits for others. */
    static boolean isSyncPoint(int op) {
        return op == BAR_SYNC || op == BAR_RED || op == BAR_WARP_SYNC || op == SHFL || op == VOTE || op == MATCH_ANY
                || op == MATCH_ALL || op == REDUX;
    }

    // flags
    static final int SIGNED = 1;
    static final int FTZ = 2;
    static final int SAT = 4;
    static final int CC = 8;
    static final int WIDE_SRC16 = 16;
    /**
     * A load that polls memory other threads write ({@code .volatile}, {@code .relaxed}, {@code .acquire}): the
     * adversarial schedule ends the thread's turn there, so a spin-wait lets the others run.
     */
    static final int POLL = 32;

    // memory-order semantics of ld, st, atom, red and fence ({@link Insn#sem}), for the sanitizer's cross-CTA check
    /** A morally strong access: {@code .volatile}, {@code .relaxed}, {@code .acquire}, {@code .release}, atomics. */
    static final int SEM_STRONG = 1;
    static final int SEM_ACQUIRE = 2;
    static final int SEM_RELEASE = 4;
    /** Scope {@code .cta}: orders nothing between CTAs. */
    static final int SEM_SCOPE_CTA = 8;
    /** Scope {@code .cluster}: orders CTAs of one cluster only. */
    static final int SEM_SCOPE_CLUSTER = 16;
    /** {@code ld.global.nc}: the read-only data path, not coherent with stores of the same launch. */
    static final int SEM_NONCOHERENT = 32;

    // state spaces (in flags >> 8 for memory ops)
    static final int SPACE_GENERIC = 0;
    static final int SPACE_GLOBAL = 1;
    static final int SPACE_SHARED = 2;
    static final int SPACE_LOCAL = 3;
    static final int SPACE_PARAM = 4;
    static final int SPACE_CONST = 5;
    /** shared::cluster: this CTA's or (after mapa) another CTA's shared memory in the cluster. */
    static final int SPACE_DSMEM = 6;

    // comparisons
    static final int CMP_EQ = 0;
    static final int CMP_NE = 1;
    static final int CMP_LT = 2;
    static final int CMP_LE = 3;
    static final int CMP_GT = 4;
    static final int CMP_GE = 5;
    static final int CMP_EQU = 6;
    static final int CMP_NEU = 7;
    static final int CMP_LTU = 8;
    static final int CMP_LEU = 9;
    static final int CMP_GTU = 10;
    static final int CMP_GEU = 11;
    static final int CMP_NUM = 12;
    static final int CMP_NAN = 13;
    static final int CMP_LO = 14;
    static final int CMP_LS = 15;
    static final int CMP_HI = 16;
    static final int CMP_HS = 17;

    // shfl modes
    static final int SHFL_UP = 0;
    static final int SHFL_DOWN = 1;
    static final int SHFL_BFLY = 2;
    static final int SHFL_IDX = 3;

    // vote modes
    static final int VOTE_ALL = 0;
    static final int VOTE_ANY = 1;
    static final int VOTE_UNI = 2;
    static final int VOTE_BALLOT = 3;

    // atomic ops
    static final int ATOM_ADD = 0;
    static final int ATOM_MIN = 1;
    static final int ATOM_MAX = 2;
    static final int ATOM_EXCH = 3;
    static final int ATOM_CAS = 4;
    static final int ATOM_AND = 5;
    static final int ATOM_OR = 6;
    static final int ATOM_XOR = 7;
    static final int ATOM_INC = 8;
    static final int ATOM_DEC = 9;

    // numeric types for cvt / atom / ld (kind in the low byte, width in bits above)
    static final int T_U = 1;
    static final int T_S = 2;
    static final int T_F = 3;
    static final int T_B = 4;
    static final int T_PRED = 5;

    // rounding modes for cvt
    static final int RND_NONE = 0;
    static final int RND_RN = 1;
    static final int RND_RZ = 2;
    static final int RND_RM = 3;
    static final int RND_RP = 4;
    static final int RND_RNI = 5;
    static final int RND_RZI = 6;
    static final int RND_RMI = 7;
    static final int RND_RPI = 8;
}
