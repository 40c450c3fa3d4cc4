package io.github.groupnorm4j.emu;

/** PTX special registers the emulator provides, set per thread before it starts. */
final class SpecialReg {
    private SpecialReg() {
    }

    static final int TID_X = 0;
    static final int TID_Y = 1;
    static final int TID_Z = 2;
    static final int NTID_X = 3;
    static final int NTID_Y = 4;
    static final int NTID_Z = 5;
    static final int CTAID_X = 6;
    static final int CTAID_Y = 7;
    static final int CTAID_Z = 8;
    static final int NCTAID_X = 9;
    static final int NCTAID_Y = 10;
    static final int NCTAID_Z = 11;
    static final int LANEID = 12;
    static final int WARPID = 13;
    static final int NWARPID = 14;
    static final int LANEMASK_EQ = 15;
    static final int LANEMASK_LT = 16;
    static final int LANEMASK_LE = 17;
    static final int LANEMASK_GT = 18;
    static final int LANEMASK_GE = 19;
    static final int CLOCK = 20;
    static final int CLOCK64 = 21;
    static final int SMID = 22;
    static final int GRIDID = 23;
    static final int DYNAMIC_SMEM_SIZE = 24;
    static final int TOTAL_SMEM_SIZE = 25;
    static final int CLUSTER_CTARANK = 26;
    static final int CLUSTER_NCTARANK = 27;
    static final int CLUSTER_CTAID_X = 28;
    static final int CLUSTER_CTAID_Y = 29;
    static final int CLUSTER_CTAID_Z = 30;
    static final int CLUSTER_NCTAID_X = 31;
    static final int CLUSTER_NCTAID_Y = 32;
    static final int CLUSTER_NCTAID_Z = 33;
    static final int CLUSTERID_X = 34;
    static final int CLUSTERID_Y = 35;
    static final int CLUSTERID_Z = 36;
    static final int NCLUSTERID_X = 37;
    static final int NCLUSTERID_Y = 38;
    static final int NCLUSTERID_Z = 39;
    static final int IS_EXPLICIT_CLUSTER = 40;

    static int byName(String name) {
        switch (name) {
            case "%tid.x": return TID_X;
            case "%tid.y": return TID_Y;
            case "%tid.z": return TID_Z;
            case "%ntid.x": return NTID_X;
            case "%ntid.y": return NTID_Y;
            case "%ntid.z": return NTID_Z;
            case "%ctaid.x": return CTAID_X;
            case "%ctaid.y": return CTAID_Y;
            case "%ctaid.z": return CTAID_Z;
            case "%nctaid.x": return NCTAID_X;
            case "%nctaid.y": return NCTAID_Y;
            case "%nctaid.z": return NCTAID_Z;
            case "%laneid": return LANEID;
            case "%warpid": return WARPID;
            case "%nwarpid": return NWARPID;
            case "%lanemask_eq": return LANEMASK_EQ;
            case "%lanemask_lt": return LANEMASK_LT;
            case "%lanemask_le": return LANEMASK_LE;
            case "%lanemask_gt": return LANEMASK_GT;
            case "%lanemask_ge": return LANEMASK_GE;
            case "%clock": return CLOCK;
            case "%clock64": return CLOCK64;
            case "%smid": return SMID;
            case "%gridid": return GRIDID;
            case "%dynamic_smem_size": return DYNAMIC_SMEM_SIZE;
            case "%total_smem_size": return TOTAL_SMEM_SIZE;
            case "%cluster_ctarank": return CLUSTER_CTARANK;
            case "%cluster_nctarank": return CLUSTER_NCTARANK;
            case "%cluster_ctaid.x": return CLUSTER_CTAID_X;
            case "%cluster_ctaid.y": return CLUSTER_CTAID_Y;
            case "%cluster_ctaid.z": return CLUSTER_CTAID_Z;
            case "%cluster_nctaid.x": return CLUSTER_NCTAID_X;
            case "%cluster_nctaid.y": return CLUSTER_NCTAID_Y;
            case "%cluster_nctaid.z": return CLUSTER_NCTAID_Z;
            case "%clusterid.x": return CLUSTERID_X;
            case "%clusterid.y": return CLUSTERID_Y;
            case "%clusterid.z": return CLUSTERID_Z;
            case "%nclusterid.x": return NCLUSTERID_X;
            case "%nclusterid.y": return NCLUSTERID_Y;
            case "%nclusterid.z": return NCLUSTERID_Z;
            case "%is_explicit_cluster": return IS_EXPLICIT_CLUSTER;
            default: return -1;
        }
    }
}
