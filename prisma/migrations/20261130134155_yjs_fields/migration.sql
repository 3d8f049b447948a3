-- Collaborative (Yjs) fields: the update log clients follow, the compacted states, and presence.
-- The log and presence are synced: REPLICA IDENTITY FULL (see the init migration for why), so a
-- compaction's deletes and a presence row's removal carry whole rows to the shapes.

-- CreateTable
CREATE TABLE "doc_updates" (
    "id" BIGSERIAL NOT NULL,
    "field" TEXT NOT NULL,
    "row_id" UUID NOT NULL,
    "update" BYTEA NOT NULL,
    "client_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doc_updates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "doc_states" (
    "field" TEXT NOT NULL,
    "row_id" UUID NOT NULL,
    "state" BYTEA NOT NULL,
    "folded" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "doc_states_pkey" PRIMARY KEY ("field","row_id")
);

-- CreateTable
CREATE TABLE "presence" (
    "client_id" UUID NOT NULL,
    "field" TEXT NOT NULL,
    "row_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "state" JSONB NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "presence_pkey" PRIMARY KEY ("client_id")
);

-- CreateIndex
CREATE INDEX "doc_updates_field_row_id_id_idx" ON "doc_updates"("field", "row_id", "id");

-- CreateIndex
CREATE INDEX "presence_field_row_id_idx" ON "presence"("field", "row_id");

-- CreateIndex
CREATE INDEX "presence_expires_at_idx" ON "presence"("expires_at");

-- AddForeignKey
ALTER TABLE "presence" ADD CONSTRAINT "presence_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: synced tables.
ALTER TABLE "doc_updates" REPLICA IDENTITY FULL;
ALTER TABLE "presence" REPLICA IDENTITY FULL;
