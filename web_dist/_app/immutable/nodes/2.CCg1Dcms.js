import{_ as m}from"../chunks/BugUkaj4.js";export{m as component};
