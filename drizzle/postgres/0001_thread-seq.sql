DROP INDEX "thread_messages_thread";--> statement-breakpoint
ALTER TABLE "thread_messages" ADD COLUMN "seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Rows stored before `seq` are numbered per thread in the order they were written.
UPDATE "thread_messages" SET "seq" = n.seq FROM (SELECT "id", row_number() OVER (PARTITION BY "org_id", "thread_key" ORDER BY "created_at", "id") AS seq FROM "thread_messages") AS n WHERE "thread_messages"."id" = n."id";--> statement-breakpoint
CREATE UNIQUE INDEX "thread_messages_seq" ON "thread_messages" USING btree ("org_id","thread_key","seq");
