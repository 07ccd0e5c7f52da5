import{_ as m}from"../chunks/Bq1fvH6u.js";export{m as component};
