-- Write path: the digest of each logged call's arguments, so a mutation id reused with other
-- arguments is refused (CONFLICT mutation_id_reused) instead of answered with the first call's
-- result. Null for rows logged before: any arguments replay them, as before.

-- AlterTable
ALTER TABLE "mutation_log" ADD COLUMN     "args_digest" TEXT;
