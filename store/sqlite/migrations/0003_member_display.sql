-- 0003: a membership row carries the member's display (a user's displayName,
-- else its userName; a group's displayName), kept current by the writes that
-- change it (UpdateUser, UpdateGroup). Reading a group's members is then a
-- range scan of its members rows instead of a lookup of every member in
-- users or groups, which made a 1000-member group cost ~6 ms of CPU to read
-- on 100k users, and a membership PATCH reads it inside the single writer.
ALTER TABLE members ADD COLUMN display TEXT NOT NULL DEFAULT '';
UPDATE members SET display = COALESCE(
    (SELECT COALESCE(NULLIF(u.display_name, ''), u.user_name) FROM users u
        WHERE members.member_kind = 'User' AND u.id = members.member_id),
    (SELECT g.display_name FROM groups g
        WHERE members.member_kind = 'Group' AND g.id = members.member_id),
    '');
