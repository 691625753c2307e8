DROP TABLE invitation_titles;
