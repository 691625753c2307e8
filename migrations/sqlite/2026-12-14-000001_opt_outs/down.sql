DROP TABLE opt_outs;
