import{_ as m}from"../chunks/BITHWJf0.js";export{m as component};
