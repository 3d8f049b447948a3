-- Write path: idempotency and ordering log of client mutations (see MutationLog in
-- schema.prisma). Not synced, so no REPLICA IDENTITY FULL and no publication membership.

-- CreateTable
CREATE TABLE "mutation_log" (
    "client_id" UUID NOT NULL,
    "mutation_id" INTEGER NOT NULL,
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "txid" BIGINT,
    "outcome" TEXT NOT NULL,
    "result" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mutation_log_pkey" PRIMARY KEY ("client_id","mutation_id")
);

-- CreateIndex
CREATE INDEX "mutation_log_user_id_idx" ON "mutation_log"("user_id");

-- CreateIndex
CREATE INDEX "mutation_log_created_at_idx" ON "mutation_log"("created_at");

-- AddForeignKey
ALTER TABLE "mutation_log" ADD CONSTRAINT "mutation_log_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
