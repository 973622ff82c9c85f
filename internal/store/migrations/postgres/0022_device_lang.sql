-- The language the person chose in the app (issue 18 item 13): the app
-- reports it at activation and when switched; the SMS of a system notice
-- goes out in it.
ALTER TABLE devices ADD COLUMN lang TEXT NOT NULL DEFAULT 'zh';

-- A system notice keeps its English words beside the Chinese (body), so the
-- app shows it in the language the person reads the app in, also after a
-- switch; '' for a staff message (shown as written) and older notices.
ALTER TABLE messages ADD COLUMN body_en TEXT NOT NULL DEFAULT '';
