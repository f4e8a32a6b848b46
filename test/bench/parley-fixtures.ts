import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import pg from 'pg';

export const BENCH_JWT_SECRET = 'parley-benchmark-secret-not-for-production-use';

/** Users, rooms and tokens for the Parley runs, written straight to the database (sign-up's argon2 would take minutes). */
export interface ParleyFixtures {
  /** The room every fan-out subscriber is a member of, and its owner (who sends). */
  fanOutRoom: string;
  sender: { id: string; token: string };
  /** Tokens of the fan-out subscribers' users (sockets share them round-robin). */
  subscriberTokens: string[];
  /** Sustained-load rooms, each with its members' ids and tokens. */
  rooms: { id: string; members: { id: string; token: string }[] }[];
}

/** A Parley token of `userId` signed with BENCH_JWT_SECRET, valid for 4 h. */
export async function token(userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer('parley')
    .setAudience('parley')
    .setExpirationTime('4h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
}

export async function createParleyFixtures(databaseUrl: string, options: { fanOutUsers: number; rooms: number; membersPerRoom: number }): Promise<ParleyFixtures> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const users: string[] = [];
    const addUsers = async (count: number) => {
      const ids = Array.from({ length: count }, () => randomUUID());
      await client.query(
        `INSERT INTO users (id, username, password_hash) SELECT id, 'bench_' || substr(id::text, 1, 8) || '_' || n, 'x'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
        [ids],
      );
      users.push(...ids);
      return ids;
    };
    const addRoom = async (owner: string, members: string[]) => {
      const id = randomUUID();
      await client.query(`INSERT INTO rooms (id, name, kind, created_by_id) VALUES ($1, $2, 'PUBLIC', $3)`, [id, `bench ${id.slice(0, 8)}`, owner]);
      await client.query(
        `INSERT INTO room_memberships (room_id, user_id, role) SELECT $1, u, CASE WHEN u = $2 THEN 'OWNER'::membership_role ELSE 'MEMBER' END FROM unnest($3::uuid[]) u`,
        [id, owner, [owner, ...members.filter((m) => m !== owner)]],
      );
      return id;
    };
    const fanOutUsers = await addUsers(options.fanOutUsers + 1);
    const [senderId, ...subscriberIds] = fanOutUsers as [string, ...string[]];
    const fanOutRoom = await addRoom(senderId, subscriberIds);
    const rooms = [];
    for (let r = 0; r < options.rooms; r++) {
      const members = await addUsers(options.membersPerRoom);
      const id = await addRoom(members[0]!, members);
      rooms.push({ id, members: await Promise.all(members.map(async (m) => ({ id: m, token: await token(m) }))) });
    }
    return {
      fanOutRoom,
      sender: { id: senderId, token: await token(senderId) },
      subscriberTokens: await Promise.all(subscriberIds.map(token)),
      rooms,
    };
  } finally {
    await client.end();
  }
}
