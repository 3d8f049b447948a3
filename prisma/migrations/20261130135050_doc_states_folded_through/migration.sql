-- The id of the last log row a compaction folded: a server's warm document that applied rows up
-- to it stays current across the compaction instead of reloading the state (see schema.prisma).

-- AlterTable
ALTER TABLE "doc_states" ADD COLUMN     "folded_through" BIGINT NOT NULL DEFAULT 0;
