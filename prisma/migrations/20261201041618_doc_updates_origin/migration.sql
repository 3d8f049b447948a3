-- The api process (its relay) that wrote a log row: a relay's feed of the log leaves out its own
-- rows, which it relayed at commit (see schema.prisma).

-- AlterTable
ALTER TABLE "doc_updates" ADD COLUMN     "origin" UUID;
